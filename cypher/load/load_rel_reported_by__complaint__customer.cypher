// name: load_rel_reported_by__complaint__customer
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one REPORTED_BY per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Complaint {uid: row.src})
MATCH (b:Customer {uid: row.dst})
MERGE (a)-[r:REPORTED_BY]->(b)
SET r += row.props
RETURN count(r) AS written
