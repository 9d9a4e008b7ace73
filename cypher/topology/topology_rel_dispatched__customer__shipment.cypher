// name: topology_rel_dispatched__customer__shipment
// params: none
// returns: src, dst, quantity, unit, start, end
// mode: read
// why: every DISPATCHED from a Customer to a Shipment, read once into the in-memory topology index.
MATCH (a:Customer)-[r:DISPATCHED]->(b:Shipment)
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit, r.start AS start, r.end AS end
