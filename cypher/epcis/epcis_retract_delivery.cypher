// name: epcis_retract_delivery
// params: ids
// returns: trimmed, seq, token
// mode: write
// changes: lineage
// why: a receiving event declared in error is taken off the delivery it completed (its id on the
//      DELIVERED_TO of the shipment that carried what it names); the delivery time it gave stays. Its
//      tail appends, in the same statement, the change log's next entry naming the relationships whose
//      evidence it trimmed (lineage.live); `locked` is set before seq is read so that on Neo4j the
//      revision's write lock is held first and two writers never take the same number.
UNWIND $ids AS id
MATCH (e:EpcisEvent {uid: id})
UNWIND split(e.objects, ' ') AS key
MATCH (:Batch {uid: key})-[:SHIPPED_IN]->(:Shipment)-[r:DELIVERED_TO]->(:Customer)
WHERE r.evidence <> id AND (' ' + r.evidence + ' ') CONTAINS (' ' + id + ' ')
SET r.evidence = trim(replace(' ' + r.evidence + ' ', ' ' + id + ' ', ' '))
WITH count(*) AS trimmed,
     collect(DISTINCT [type(r), head(labels(startNode(r))), startNode(r).uid, head(labels(endNode(r))), endNode(r).uid]) AS keys
WITH trimmed, CASE WHEN size(keys) > 0 THEN keys END AS keys
MERGE (clock:Revision {uid: 'lineage'})
SET clock.locked = true
SET clock.seq = coalesce(clock.seq, 0) + 1
CREATE (:LineageChange {seq: clock.seq, at: timestamp(), rel_types: [k IN keys | k[0]],
                        rel_src_labels: [k IN keys | k[1]], rel_src: [k IN keys | k[2]],
                        rel_dst_labels: [k IN keys | k[3]], rel_dst: [k IN keys | k[4]]})
RETURN trimmed, clock.seq AS seq, clock.token AS token
