// name: recall_update
// params: uid, version, props
// returns: written
// mode: write
// changes: records
// why: writes a changed recall only if no one changed it since it was read at version (0 when it has
//      none yet); written is 0 otherwise. Setting the version first takes the recall's write lock
//      before it is compared (Neo4j reads committed data: without it two writers could both match);
//      the comparison does not rely on that first SET, which FalkorDB applies only at the end.
MATCH (r:Recall {uid: $uid})
SET r.version = coalesce(r.version, 0)
WITH r
WHERE coalesce(r.version, 0) = $version
SET r += $props, r.version = $version + 1
RETURN count(r) AS written
