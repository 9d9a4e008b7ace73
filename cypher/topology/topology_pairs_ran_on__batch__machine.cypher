// name: topology_pairs_ran_on__batch__machine
// params: pairs
// returns: src, dst, start, end
// mode: read
// why: the RAN_ON relationships from a Batch to a Machine that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_ran_on__batch__machine. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Batch {uid: p.src})-[r:RAN_ON]->(b:Machine {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst, r.start AS start, r.end AS end
