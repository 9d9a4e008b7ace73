// name: analysis_batches_started_between
// params: window_from, window_to
// returns: uid, batch_type, started_at
// mode: read
// why: the batches a common-cause analysis compares the complaint batches against: those started in the same period.
MATCH (b:Batch)
WHERE b.started_at >= $window_from AND b.started_at < $window_to
RETURN b.uid AS uid, b.batch_type AS batch_type, b.started_at AS started_at
