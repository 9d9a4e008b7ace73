// name: topology_pairs_consumed_by__lot__batch
// params: pairs
// returns: src, dst, quantity, unit
// mode: read
// why: the CONSUMED_BY relationships from a MaterialLot to a Batch that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_consumed_by__lot__batch. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:MaterialLot {uid: p.src})-[r:CONSUMED_BY]->(b:Batch {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
