// name: fsma_lot_shipments
// params: uids
// returns: batch, shipment, quantity, unit, evidence, container
// mode: read
// why: every shipment of each traceability lot, shipped as it is or packed in a logistic unit
//      (a pallet: then the quantity packed and the pallet's uid), with the shipment's parties.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:SHIPPED_IN]->(s:Shipment)
RETURN u AS batch, s.uid AS shipment, r.quantity AS quantity, r.unit AS unit, r.evidence AS evidence,
       null AS container
UNION ALL
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[p:CONSUMED_BY]->(c:Batch {batch_type: 'logistic_unit'})-[r:SHIPPED_IN]->(s:Shipment)
RETURN u AS batch, s.uid AS shipment, p.quantity AS quantity, p.unit AS unit, r.evidence AS evidence,
       c.uid AS container
