// name: recall_get
// params: uid
// returns: props
// mode: read
// why: one recall with its frozen scope and history.
MATCH (r:Recall {uid: $uid})
RETURN properties(r) AS props
