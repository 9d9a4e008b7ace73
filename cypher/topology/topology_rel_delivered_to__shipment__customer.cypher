// name: topology_rel_delivered_to__shipment__customer
// params: none
// returns: src, dst, quantity, unit, start, end
// mode: read
// why: every DELIVERED_TO from a Shipment to a Customer, read once into the in-memory topology index.
MATCH (a:Shipment)-[r:DELIVERED_TO]->(b:Customer)
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit, r.start AS start, r.end AS end
