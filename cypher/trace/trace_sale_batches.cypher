// name: trace_sale_batches
// params: uids
// returns: sale, batch, quantity, unit
// mode: read
// why: the batches whose units a sale sold.
UNWIND $uids AS u
MATCH (b:Batch)-[r:SOLD_IN]->(s:Sale {uid: u})
RETURN u AS sale, b.uid AS batch, r.quantity AS quantity, r.unit AS unit
