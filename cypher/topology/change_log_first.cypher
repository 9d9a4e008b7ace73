// name: change_log_first
// params: none
// returns: seq
// mode: read
// why: the oldest entry still in the change log (no row when it is empty): an index behind it cannot
//      catch up from the log, as the entries it needs are trimmed, and is built again (lineage.live).
//      By the index on seq, in its order, so Neo4j reads one entry.
MATCH (c:LineageChange)
WHERE c.seq > 0
RETURN c.seq AS seq
ORDER BY seq
LIMIT 1
