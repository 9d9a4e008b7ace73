// name: batch_shipments
// params: uids
// returns: batch, shipment
// mode: read
// why: the shipments that already carry these batches: loading them again is no new shipment.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[:SHIPPED_IN]->(s:Shipment)
RETURN b.uid AS batch, s.uid AS shipment
