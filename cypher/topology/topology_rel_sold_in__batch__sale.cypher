// name: topology_rel_sold_in__batch__sale
// params: none
// returns: src, dst, quantity, unit
// mode: read
// why: every SOLD_IN from a Batch to a Sale, read once into the in-memory topology index.
MATCH (a:Batch)-[r:SOLD_IN]->(b:Sale)
RETURN a.uid AS src, b.uid AS dst, r.quantity AS quantity, r.unit AS unit
