// name: balance_batch_shipments
// params: uids
// returns: batch, shipment, quantity, unit, document, at
// mode: read
// why: what of each batch left the plant: shipments no distributor dispatched (re-shipments are not the plant's).
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:SHIPPED_IN]->(s:Shipment)
WHERE NOT (:Customer)-[:DISPATCHED]->(s)
RETURN b.uid AS batch, s.uid AS shipment, r.quantity AS quantity, r.unit AS unit, s.document AS document,
       s.shipped_at AS at
ORDER BY batch, shipment
