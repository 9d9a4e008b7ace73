// name: load_rel_ran_on__batch__machine
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one RAN_ON per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Batch {uid: row.src})
MATCH (b:Machine {uid: row.dst})
MERGE (a)-[r:RAN_ON]->(b)
SET r += row.props
RETURN count(r) AS written
