// name: scope_batch_consumers
// params: uids
// returns: src, dst, quantity, unit
// mode: read
// why: one level of a frontier expansion: cost follows the nodes reached, never the number of paths.
UNWIND $uids AS u
MATCH (a:Batch {uid: u})-[r:CONSUMED_BY]->(b:Batch)
RETURN u AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
