// name: fsma_shipment_parties
// params: uids
// returns: shipment, recipient, dispatcher
// mode: read
// why: who each shipment went to and who sent it (none: it left the firm's own site).
UNWIND $uids AS u
MATCH (s:Shipment {uid: u})
OPTIONAL MATCH (s)-[:DELIVERED_TO]->(c:Customer)
OPTIONAL MATCH (d:Customer)-[:DISPATCHED]->(s)
RETURN u AS shipment, c.uid AS recipient, d.uid AS dispatcher
