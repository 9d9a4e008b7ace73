// name: audit_append
// params: prev_seq, seq, hash, props
// returns: written
// mode: write
// changes: records
// why: appends one entry and moves the head in one statement, only if the head is still where the
//      writer read it (compare and set): two writers never chain to the same entry.
MERGE (h:AuditHead {uid: 'head'})
WITH h
WHERE coalesce(h.seq, 0) = $prev_seq
CREATE (a:AuditEntry {uid: $props.uid})
SET a += $props, h.seq = $seq, h.hash = $hash
RETURN count(a) AS written
