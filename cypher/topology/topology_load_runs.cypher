// name: topology_load_runs
// params: none
// returns: runs, started, finished
// mode: read
// why: with the node and relationship counts, says whether the graph changed since an index was built:
// every load records itself here before its first write and again after its last.
MATCH (r:LoadRun)
RETURN count(r) AS runs, max(r.started_at) AS started, max(r.finished_at) AS finished
