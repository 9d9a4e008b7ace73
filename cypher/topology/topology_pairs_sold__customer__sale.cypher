// name: topology_pairs_sold__customer__sale
// params: pairs
// returns: src, dst
// mode: read
// why: the SOLD relationships from a Customer to a Sale that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_sold__customer__sale. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Customer {uid: p.src})-[r:SOLD]->(b:Sale {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
