// name: followup_write
// params: uid, props
// returns: written
// mode: write
// changes: records
// why: one follow-up action on one customer of a recall; actions are appended, never changed.
CREATE (f:Followup {uid: $uid})
SET f += $props
RETURN count(f) AS written
