// name: load_rel_inspected__inspection__batch
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one INSPECTED per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Inspection {uid: row.src})
MATCH (b:Batch {uid: row.dst})
MERGE (a)-[r:INSPECTED]->(b)
SET r += row.props
RETURN count(r) AS written
