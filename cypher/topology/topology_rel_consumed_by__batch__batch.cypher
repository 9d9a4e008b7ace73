// name: topology_rel_consumed_by__batch__batch
// params: none
// returns: src, dst, quantity, unit
// mode: read
// why: every CONSUMED_BY from a Batch to a Batch, read once into the in-memory topology index.
MATCH (a:Batch)-[r:CONSUMED_BY]->(b:Batch)
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
