// name: trace_shipment_batches
// params: uids
// returns: shipment, batch, quantity, unit
// mode: read
// why: the batches a shipment carried.
UNWIND $uids AS u
MATCH (b:Batch)-[r:SHIPPED_IN]->(s:Shipment {uid: u})
RETURN u AS shipment, b.uid AS batch, r.quantity AS quantity, r.unit AS unit
