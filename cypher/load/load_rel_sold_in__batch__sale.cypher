// name: load_rel_sold_in__batch__sale
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one SOLD_IN per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Batch {uid: row.src})
MATCH (b:Sale {uid: row.dst})
MERGE (a)-[r:SOLD_IN]->(b)
SET r += row.props
RETURN count(r) AS written
