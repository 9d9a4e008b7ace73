// name: load_node_inspection
// params: rows
// returns: written, seq, token
// mode: write
// changes: lineage
// why: one UNWIND per batch of rows (uid, props); MERGE on uid makes loading the same data twice a
//      no-op. Its tail appends, in the same statement, the change log's next entry naming the
//      Inspection nodes written (lineage.live); `locked` is set before seq is read so that on Neo4j the
//      revision's write lock is held first and two writers never take the same number.
UNWIND $rows AS row
MERGE (n:Inspection {uid: row.uid})
SET n += row.props
WITH count(n) AS written, collect(n.uid) AS uids
WITH written, CASE WHEN written > 0 THEN uids END AS uids
MERGE (clock:Revision {uid: 'lineage'})
SET clock.locked = true
SET clock.seq = coalesce(clock.seq, 0) + 1
CREATE (:LineageChange {seq: clock.seq, at: timestamp(), node_labels: [u IN uids | 'Inspection'], node_uids: uids})
RETURN written, clock.seq AS seq, clock.token AS token
