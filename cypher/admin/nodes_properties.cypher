// name: nodes_properties
// params: supplier, lot, machine, operator, batch, inspection, shipment, customer, sale, complaint
// returns: label, uid, props
// mode: read
// why: one round trip fetches the stored properties of every node a scope found, whatever its label.
UNWIND $supplier AS u MATCH (n:Supplier {uid: u}) RETURN 'Supplier' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $lot AS u MATCH (n:MaterialLot {uid: u}) RETURN 'MaterialLot' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $machine AS u MATCH (n:Machine {uid: u}) RETURN 'Machine' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $operator AS u MATCH (n:Operator {uid: u}) RETURN 'Operator' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $batch AS u MATCH (n:Batch {uid: u}) RETURN 'Batch' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $inspection AS u MATCH (n:Inspection {uid: u}) RETURN 'Inspection' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $shipment AS u MATCH (n:Shipment {uid: u}) RETURN 'Shipment' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $customer AS u MATCH (n:Customer {uid: u}) RETURN 'Customer' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $sale AS u MATCH (n:Sale {uid: u}) RETURN 'Sale' AS label, n.uid AS uid, properties(n) AS props
UNION ALL
UNWIND $complaint AS u MATCH (n:Complaint {uid: u}) RETURN 'Complaint' AS label, n.uid AS uid, properties(n) AS props
