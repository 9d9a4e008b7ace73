// name: scope_batch_shipments
// params: uids
// returns: batch, shipment, quantity, unit, origin, destination
// mode: read
// why: batch-aware distribution: a shipment is in scope only if it carries a scoped batch, so a
// distributor's re-shipments of other batches never widen the scope.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:SHIPPED_IN]->(s:Shipment)
OPTIONAL MATCH (o:Customer)-[:DISPATCHED]->(s)
OPTIONAL MATCH (s)-[:DELIVERED_TO]->(c:Customer)
RETURN u AS batch, s.uid AS shipment, r.quantity AS quantity, r.unit AS unit,
       o.uid AS origin, c.uid AS destination
