// name: topology_pairs_reported_by__complaint__customer
// params: pairs
// returns: src, dst
// mode: read
// why: the REPORTED_BY relationships from a Complaint to a Customer that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_reported_by__complaint__customer. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Complaint {uid: p.src})-[r:REPORTED_BY]->(b:Customer {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
