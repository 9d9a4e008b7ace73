// name: audit_page
// params: after, limit
// returns: props
// mode: read
// why: entries in order after a uid (uids are zero-padded numbers, so their order is the log's), a page at a time.
MATCH (a:AuditEntry)
WHERE a.uid > $after
RETURN properties(a) AS props
ORDER BY a.uid
LIMIT $limit
