// name: topology_pairs_consumed_by__batch__batch
// params: pairs
// returns: src, dst, quantity, unit
// mode: read
// why: the CONSUMED_BY relationships from a Batch to a Batch that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_consumed_by__batch__batch. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Batch {uid: p.src})-[r:CONSUMED_BY]->(b:Batch {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
