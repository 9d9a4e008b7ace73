// name: topology_pairs_shipped_in__batch__shipment
// params: pairs
// returns: src, dst, quantity, unit
// mode: read
// why: the SHIPPED_IN relationships from a Batch to a Shipment that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_shipped_in__batch__shipment. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Batch {uid: p.src})-[r:SHIPPED_IN]->(b:Shipment {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
