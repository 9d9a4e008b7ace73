// name: trace_batch_inputs
// params: uids
// returns: dst, label, src, quantity, unit
// mode: read
// why: one level upstream (lots and input batches); the caller keeps the visited set.
UNWIND $uids AS u
MATCH (i)-[r:CONSUMED_BY]->(b:Batch {uid: u})
RETURN u AS dst, labels(i)[0] AS label, i.uid AS src, r.quantity AS quantity, r.unit AS unit
