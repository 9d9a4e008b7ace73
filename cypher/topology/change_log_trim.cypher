// name: change_log_trim
// params: before, limit
// returns: trimmed
// mode: write
// changes: records
// why: the change log keeps its last entries only (LINEAGE_CHANGE_LOG_KEEP); an index further behind
//      finds the gap and is built again. In slices: the caller repeats until nothing is left.
MATCH (c:LineageChange)
WHERE c.seq < $before
WITH c LIMIT $limit
DELETE c
RETURN count(*) AS trimmed
