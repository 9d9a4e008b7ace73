// name: topology_rel_consumed_by__lot__batch
// params: none
// returns: src, dst, quantity, unit
// mode: read
// why: every CONSUMED_BY from a MaterialLot to a Batch, read once into the in-memory topology index.
MATCH (a:MaterialLot)-[r:CONSUMED_BY]->(b:Batch)
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
