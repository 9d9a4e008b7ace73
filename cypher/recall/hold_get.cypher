// name: hold_get
// params: uid
// returns: props
// mode: read
// why: one hold, to release it.
MATCH (h:Hold {uid: $uid})
RETURN properties(h) AS props
