// name: load_rel_handled_by__batch__operator
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one HANDLED_BY per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Batch {uid: row.src})
MATCH (b:Operator {uid: row.dst})
MERGE (a)-[r:HANDLED_BY]->(b)
SET r += row.props
RETURN count(r) AS written
