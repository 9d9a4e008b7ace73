// name: scope_batch_sales
// params: uids
// returns: batch, sale, quantity, unit, seller
// mode: read
// why: units sold from scoped batches, with the customer that sold them.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:SOLD_IN]->(s:Sale)
OPTIONAL MATCH (c:Customer)-[:SOLD]->(s)
RETURN u AS batch, s.uid AS sale, r.quantity AS quantity, r.unit AS unit, c.uid AS seller
