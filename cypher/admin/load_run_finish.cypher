// name: load_run_finish
// params: uid, finished_at, nodes, relationships
// returns: uid
// mode: write
// changes: records
// why: written after the last batch; a run still 'running' afterwards was interrupted.
MATCH (r:LoadRun {uid: $uid})
SET r.status = 'complete', r.finished_at = $finished_at, r.nodes = $nodes, r.relationships = $relationships
RETURN r.uid AS uid
