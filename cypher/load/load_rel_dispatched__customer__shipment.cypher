// name: load_rel_dispatched__customer__shipment
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one DISPATCHED per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Customer {uid: row.src})
MATCH (b:Shipment {uid: row.dst})
MERGE (a)-[r:DISPATCHED]->(b)
SET r += row.props
RETURN count(r) AS written
