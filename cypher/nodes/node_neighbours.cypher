// name: node_neighbours
// params: supplier, lot, machine, operator, batch, inspection, shipment, customer, sale, complaint, limit
// returns: type, src_label, src, dst_label, dst, props, name
// mode: read
// why: a node's direct relationships, at most `limit` of them; one list per label is set (the
// others are empty), because a label cannot be a parameter and each branch must use its uid index.
UNWIND $supplier AS u MATCH (n:Supplier {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $lot AS u MATCH (n:MaterialLot {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $machine AS u MATCH (n:Machine {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $operator AS u MATCH (n:Operator {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $batch AS u MATCH (n:Batch {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $inspection AS u MATCH (n:Inspection {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $shipment AS u MATCH (n:Shipment {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $customer AS u MATCH (n:Customer {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $sale AS u MATCH (n:Sale {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
UNION ALL
UNWIND $complaint AS u MATCH (n:Complaint {uid: u})-[r]-(m)
RETURN type(r) AS type, labels(startNode(r))[0] AS src_label, startNode(r).uid AS src,
       labels(endNode(r))[0] AS dst_label, endNode(r).uid AS dst, properties(r) AS props, m.name AS name
LIMIT $limit
