// name: revision_bump
// params: token
// returns: token, seq
// mode: write
// changes: records
// why: run when every index must be built again, as no change log entry says what changed: after a
//      bulk load, a reset, a write to the lineage whose outcome the store could not read, or a program
//      that wrote the lineage directly. A fresh random token each time, never a counter, so that a
//      graph emptied and loaded again cannot come back to a token an old index holds; seq stays (0 if
//      no entry was ever written), so the log's numbers go on.
MERGE (r:Revision {uid: 'lineage'})
SET r.token = $token, r.seq = coalesce(r.seq, 0)
RETURN r.token AS token, r.seq AS seq
