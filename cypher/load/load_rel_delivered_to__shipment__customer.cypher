// name: load_rel_delivered_to__shipment__customer
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one DELIVERED_TO per pair, so reloads change nothing.
UNWIND $rows AS row
MATCH (a:Shipment {uid: row.src})
MATCH (b:Customer {uid: row.dst})
MERGE (a)-[r:DELIVERED_TO]->(b)
SET r += row.props
RETURN count(r) AS written
