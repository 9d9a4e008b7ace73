// name: revision_bump
// params: token
// returns: token
// mode: write
// changes: records
// why: run by the store after every statement whose header says it changes the lineage (and after a
//      bulk load), never before: an index built while the write ran is stamped with the token before
//      it, so the next scope sees the change. A fresh random token each time, never a counter, so that
//      a graph emptied and loaded again cannot come back to a token an old index holds.
MERGE (r:Revision {uid: 'lineage'})
SET r.token = $token
RETURN r.token AS token
