// name: load_rel_about__complaint__batch
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one ABOUT per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Complaint {uid: row.src})
MATCH (b:Batch {uid: row.dst})
MERGE (a)-[r:ABOUT]->(b)
SET r += row.props
RETURN count(r) AS written
