// name: topology_revision
// params: none
// returns: token, seq
// mode: read
// why: what every scope asks before it walks the index: one lookup by a unique key. seq is the last
//      change log entry's number (an index behind it catches up, lineage.live); token is replaced only
//      when every index must be built again (revision_bump). No row (a graph never written by
//      lineage) reads as no token and no entry.
MATCH (r:Revision {uid: 'lineage'})
RETURN r.token AS token, r.seq AS seq
