// name: topology_rel_shipped_in__batch__shipment
// params: none
// returns: src, dst, quantity, unit
// mode: read
// why: every SHIPPED_IN from a Batch to a Shipment, read once into the in-memory topology index.
MATCH (a:Batch)-[r:SHIPPED_IN]->(b:Shipment)
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
