// name: scope_batch_outflow
// params: uids
// returns: kind, batch, uid, quantity, unit, origin, customer
// mode: read
// why: where scoped batches went, shipments and sales in one round trip; batch-aware: a shipment is
// in scope only if it carries a scoped batch, so a distributor's re-shipments of other batches stay out.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:SHIPPED_IN]->(s:Shipment)
OPTIONAL MATCH (o:Customer)-[:DISPATCHED]->(s)
OPTIONAL MATCH (s)-[:DELIVERED_TO]->(c:Customer)
RETURN 'shipment' AS kind, u AS batch, s.uid AS uid, r.quantity AS quantity, r.unit AS unit,
       o.uid AS origin, c.uid AS customer
UNION ALL
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:SOLD_IN]->(s:Sale)
OPTIONAL MATCH (c:Customer)-[:SOLD]->(s)
RETURN 'sale' AS kind, u AS batch, s.uid AS uid, r.quantity AS quantity, r.unit AS unit,
       null AS origin, c.uid AS customer
