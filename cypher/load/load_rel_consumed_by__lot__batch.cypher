// name: load_rel_consumed_by__lot__batch
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one CONSUMED_BY per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:MaterialLot {uid: row.src})
MATCH (b:Batch {uid: row.dst})
MERGE (a)-[r:CONSUMED_BY]->(b)
SET r += row.props
RETURN count(r) AS written
