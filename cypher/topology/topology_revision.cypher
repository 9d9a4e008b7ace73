// name: topology_revision
// params: none
// returns: token
// mode: read
// why: what every scope asks before it walks the index: one lookup by a unique key, constant time, where
//      counting nodes and relationships and the load records took three statements. The token is
//      replaced after every statement that changes the lineage (revision_bump), so a token an index was
//      stamped with never comes back; no row (a graph never written by lineage) reads as none.
MATCH (r:Revision {uid: 'lineage'})
RETURN r.token AS token
