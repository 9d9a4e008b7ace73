// name: load_runs_interrupted
// params: none
// returns: uid, started_at, files, records
// mode: read
// why: `lineage status` names loads that began and never finished, so they can be run again.
MATCH (r:LoadRun)
WHERE r.status = 'running'
RETURN r.uid AS uid, r.started_at AS started_at, r.files AS files, r.records AS records
ORDER BY started_at
