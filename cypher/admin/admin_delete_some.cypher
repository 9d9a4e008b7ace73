// name: admin_delete_some
// params: limit
// returns: deleted
// mode: write
// changes: lineage
// why: deleting in slices keeps each statement small; the caller repeats until nothing is left. The
//      revision stays (the store replaces its token after each slice, so every index sees the graph empty).
MATCH (n)
WHERE NOT n:Revision
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
