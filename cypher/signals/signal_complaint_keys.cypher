// name: signal_complaint_keys
// params: uid, trace_keys
// returns: uid, seq, token
// mode: write
// changes: lineage
// why: what a complaint traces to (batch, lots, suppliers, machines, operators, product, region), kept
//      at intake so that evaluating signals does not trace every complaint again. Its tail appends, in
//      the same statement, the change log's next entry naming the complaint (lineage.live); `locked` is
//      set before seq is read so that on Neo4j the revision's write lock is held first and two writers
//      never take the same number.
MATCH (c:Complaint {uid: $uid})
SET c.trace_keys = $trace_keys
WITH collect(c.uid) AS uids
WITH CASE WHEN size(uids) > 0 THEN uids END AS uids
MERGE (clock:Revision {uid: 'lineage'})
SET clock.locked = true
SET clock.seq = coalesce(clock.seq, 0) + 1
CREATE (:LineageChange {seq: clock.seq, at: timestamp(), node_labels: [u IN uids | 'Complaint'], node_uids: uids})
RETURN head(uids) AS uid, clock.seq AS seq, clock.token AS token
