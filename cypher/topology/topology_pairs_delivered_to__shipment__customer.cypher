// name: topology_pairs_delivered_to__shipment__customer
// params: pairs
// returns: src, dst
// mode: read
// why: the DELIVERED_TO relationships from a Shipment to a Customer that a change log entry names,
//      as stored now, for an index catching up (lineage.live); the same columns as
//      topology_rel_delivered_to__shipment__customer. A pair that no longer exists returns no row.
UNWIND $pairs AS p
MATCH (a:Shipment {uid: p.src})-[r:DELIVERED_TO]->(b:Customer {uid: p.dst})
RETURN a.uid AS src, b.uid AS dst
