// name: topology_pairs_dispatched__customer__shipment
// params: pairs
// returns: src, dst
// mode: read
// why: the DISPATCHED relationships from a Customer to a Shipment that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_dispatched__customer__shipment. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Customer {uid: p.src})-[r:DISPATCHED]->(b:Shipment {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
