// name: topology_pairs_about__complaint__sale
// params: pairs
// returns: src, dst
// mode: read
// why: the ABOUT relationships from a Complaint to a Sale that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_about__complaint__sale. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Complaint {uid: p.src})-[r:ABOUT]->(b:Sale {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
