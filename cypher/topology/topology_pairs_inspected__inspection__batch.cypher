// name: topology_pairs_inspected__inspection__batch
// params: pairs
// returns: src, dst
// mode: read
// why: the INSPECTED relationships from a Inspection to a Batch that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_inspected__inspection__batch. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Inspection {uid: p.src})-[r:INSPECTED]->(b:Batch {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
