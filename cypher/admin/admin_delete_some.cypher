// name: admin_delete_some
// params: limit
// returns: deleted
// mode: write
// why: deleting in slices keeps each statement small; the caller repeats until nothing is left.
MATCH (n)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
