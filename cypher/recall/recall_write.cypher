// name: recall_write
// params: uid, props
// returns: written
// mode: write
// changes: records
// why: creates or updates one recall's record; every property the recall has is in props.
MERGE (r:Recall {uid: $uid})
SET r += $props
RETURN count(r) AS written
