// name: admin_graph_empty
// params: none
// returns: empty
// mode: read
// why: a load into an empty graph may take the engine's bulk path and skips the checks against stored
//      data. Empty means nothing but the revision (which a reset keeps) and the change log's entries
//      (which name no data); the scan stops at the first other node, so a full graph answers as fast as
//      an empty one.
OPTIONAL MATCH (n)
WHERE NOT n:Revision AND NOT n:LineageChange
WITH n LIMIT 1
RETURN n IS NULL AS empty
