// name: trace_customer_receipts
// params: uid
// returns: shipment, sale
// mode: read
// why: what reached a customer: shipments delivered to it and sales it made (one column set per row).
MATCH (s:Shipment)-[:DELIVERED_TO]->(c:Customer {uid: $uid})
RETURN s.uid AS shipment, null AS sale
UNION ALL
MATCH (c:Customer {uid: $uid})-[:SOLD]->(s:Sale)
RETURN null AS shipment, s.uid AS sale
