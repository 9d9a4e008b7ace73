// name: lookup_code_batches
// params: code
// returns: batch
// mode: read
// why: the batches a code names: a batch code itself, or a serial (a sale's uid or serial) through the sale.
MATCH (b:Batch {uid: $code})
RETURN b.uid AS batch
UNION
MATCH (b:Batch)-[:SOLD_IN]->(s:Sale {uid: $code})
RETURN b.uid AS batch
UNION
MATCH (b:Batch)-[:SOLD_IN]->(s:Sale)
WHERE s.serial = $code
RETURN b.uid AS batch
