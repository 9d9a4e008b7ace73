// name: topology_pairs_sold_in__batch__sale
// params: pairs
// returns: src, dst, quantity, unit
// mode: read
// why: the SOLD_IN relationships from a Batch to a Sale that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_sold_in__batch__sale. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Batch {uid: p.src})-[r:SOLD_IN]->(b:Sale {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
