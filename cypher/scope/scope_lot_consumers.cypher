// name: scope_lot_consumers
// params: uids
// returns: src, dst, quantity, unit
// mode: read
// why: one hop from material lots to the batches that consumed them; the caller keeps the visited set.
UNWIND $uids AS u
MATCH (l:MaterialLot {uid: u})-[r:CONSUMED_BY]->(b:Batch)
RETURN u AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
