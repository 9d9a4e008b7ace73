// name: load_rel_supplied__supplier__lot
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one SUPPLIED per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Supplier {uid: row.src})
MATCH (b:MaterialLot {uid: row.dst})
MERGE (a)-[r:SUPPLIED]->(b)
SET r += row.props
RETURN count(r) AS written
