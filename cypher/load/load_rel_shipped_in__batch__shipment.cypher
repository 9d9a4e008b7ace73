// name: load_rel_shipped_in__batch__shipment
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one SHIPPED_IN per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Batch {uid: row.src})
MATCH (b:Shipment {uid: row.dst})
MERGE (a)-[r:SHIPPED_IN]->(b)
SET r += row.props
RETURN count(r) AS written
