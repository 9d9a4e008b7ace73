// name: topology_pairs_handled_by__batch__operator
// params: pairs
// returns: src, dst, start, end
// mode: read
// why: the HANDLED_BY relationships from a Batch to a Operator that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_handled_by__batch__operator. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Batch {uid: p.src})-[r:HANDLED_BY]->(b:Operator {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst, r.start AS start, r.end AS end
