// name: node_degree
// params: supplier, lot, machine, operator, batch, inspection, shipment, customer, sale, complaint
// returns: type, relationships
// mode: read
// why: how many relationships of each type a node has, so a neighbour list cut at its limit says so.
UNWIND $supplier AS u MATCH (n:Supplier {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $lot AS u MATCH (n:MaterialLot {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $machine AS u MATCH (n:Machine {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $operator AS u MATCH (n:Operator {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $batch AS u MATCH (n:Batch {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $inspection AS u MATCH (n:Inspection {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $shipment AS u MATCH (n:Shipment {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $customer AS u MATCH (n:Customer {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $sale AS u MATCH (n:Sale {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
UNION ALL
UNWIND $complaint AS u MATCH (n:Complaint {uid: u})-[r]-()
RETURN type(r) AS type, count(r) AS relationships
