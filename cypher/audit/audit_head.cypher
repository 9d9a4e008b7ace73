// name: audit_head
// params: none
// returns: seq, hash
// mode: read
// why: the last entry's number and hash, which the next entry chains to (no row: the log is empty).
MATCH (h:AuditHead {uid: 'head'})
RETURN h.seq AS seq, h.hash AS hash
