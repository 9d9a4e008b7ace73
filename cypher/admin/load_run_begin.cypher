// name: load_run_begin
// params: uid, started_at, files, records
// returns: uid
// mode: write
// changes: records
// why: recorded before the first write, so a load cut short is visible until the same input is loaded again.
MERGE (r:LoadRun {uid: $uid})
SET r.status = 'running', r.started_at = $started_at, r.files = $files, r.records = $records
RETURN r.uid AS uid
