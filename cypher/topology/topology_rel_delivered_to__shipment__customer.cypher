// name: topology_rel_delivered_to__shipment__customer
// params: none
// returns: src, dst
// mode: read
// why: every DELIVERED_TO from a Shipment to a Customer, read once into the in-memory topology index.
MATCH (a:Shipment)-[r:DELIVERED_TO]->(b:Customer)
RETURN a.uid AS src, b.uid AS dst
