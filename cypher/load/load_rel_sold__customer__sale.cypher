// name: load_rel_sold__customer__sale
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one SOLD per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Customer {uid: row.src})
MATCH (b:Sale {uid: row.dst})
MERGE (a)-[r:SOLD]->(b)
SET r += row.props
RETURN count(r) AS written
