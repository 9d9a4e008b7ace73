// name: epcis_retract_shipment
// params: rows
// returns: removed, seq, token
// mode: write
// changes: lineage
// why: the shipment a shipping event declared in error made (uid from the event id) loses what only
//      that event said; a receipt of another event naming it keeps its delivery. Its tail appends, in
//      the same statement, the change log's next entry naming the relationships deleted (lineage.live),
//      each read before it goes; `locked` is set before seq is read so that on Neo4j the revision's
//      write lock is held first and two writers never take the same number.
UNWIND $rows AS row
MATCH (s:Shipment {uid: row.shipment})-[r]-()
WHERE r.evidence = row.id
WITH r, [type(r), head(labels(startNode(r))), startNode(r).uid, head(labels(endNode(r))), endNode(r).uid] AS gone
DELETE r
WITH count(*) AS removed, collect(DISTINCT gone) AS keys
WITH removed, CASE WHEN size(keys) > 0 THEN keys END AS keys
MERGE (clock:Revision {uid: 'lineage'})
SET clock.locked = true
SET clock.seq = coalesce(clock.seq, 0) + 1
CREATE (:LineageChange {seq: clock.seq, at: timestamp(), rel_types: [k IN keys | k[0]],
                        rel_src_labels: [k IN keys | k[1]], rel_src: [k IN keys | k[2]],
                        rel_dst_labels: [k IN keys | k[3]], rel_dst: [k IN keys | k[4]]})
RETURN removed, clock.seq AS seq, clock.token AS token
