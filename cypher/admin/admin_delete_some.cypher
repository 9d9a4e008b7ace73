// name: admin_delete_some
// params: limit
// returns: deleted
// mode: write
// changes: lineage
// why: deleting in slices keeps each statement small; the caller repeats until nothing is left. The
//      change log's entries go too (a reset is not a change an index applies); the revision stays, with
//      its seq going on, and the store replaces its token after each slice, so every index is built
//      again and sees the graph empty.
MATCH (n)
WHERE NOT n:Revision
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
