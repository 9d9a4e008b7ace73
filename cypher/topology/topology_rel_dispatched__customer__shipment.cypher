// name: topology_rel_dispatched__customer__shipment
// params: none
// returns: src, dst
// mode: read
// why: every DISPATCHED from a Customer to a Shipment, read once into the in-memory topology index.
MATCH (a:Customer)-[r:DISPATCHED]->(b:Shipment)
RETURN a.uid AS src, b.uid AS dst
