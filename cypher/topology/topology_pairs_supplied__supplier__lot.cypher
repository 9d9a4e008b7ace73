// name: topology_pairs_supplied__supplier__lot
// params: pairs
// returns: src, dst
// mode: read
// why: the SUPPLIED relationships from a Supplier to a MaterialLot that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_supplied__supplier__lot. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Supplier {uid: p.src})-[r:SUPPLIED]->(b:MaterialLot {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
