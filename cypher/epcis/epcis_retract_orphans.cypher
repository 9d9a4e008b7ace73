// name: epcis_retract_orphans
// params: shipments
// returns: removed, seq, token
// mode: write
// changes: lineage
// why: a shipment that nothing links any more (its shipping event was declared in error) goes. Its tail
//      appends, in the same statement, the change log's next entry naming the shipments deleted
//      (lineage.live); `locked` is set before seq is read so that on Neo4j the revision's write lock is
//      held first and two writers never take the same number.
UNWIND $shipments AS uid
MATCH (s:Shipment {uid: uid})
WHERE NOT (s)--()
WITH s, s.uid AS gone
DELETE s
WITH count(*) AS removed, collect(gone) AS uids
WITH removed, CASE WHEN removed > 0 THEN uids END AS uids
MERGE (clock:Revision {uid: 'lineage'})
SET clock.locked = true
SET clock.seq = coalesce(clock.seq, 0) + 1
CREATE (:LineageChange {seq: clock.seq, at: timestamp(), node_labels: [u IN uids | 'Shipment'], node_uids: uids})
RETURN removed, clock.seq AS seq, clock.token AS token
