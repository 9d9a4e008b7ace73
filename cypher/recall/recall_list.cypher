// name: recall_list
// params: none
// returns: uid, state, strategy, level, source_label, source_uid, owner, deadline, created_at, reason
// mode: read
// why: every recall in brief, without the frozen scope (which can be megabytes).
MATCH (r:Recall)
RETURN r.uid AS uid, r.state AS state, r.strategy AS strategy, r.level AS level,
       r.source_label AS source_label, r.source_uid AS source_uid, r.owner AS owner,
       r.deadline AS deadline, r.created_at AS created_at, r.reason AS reason
ORDER BY uid
