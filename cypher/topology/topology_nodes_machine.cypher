// name: topology_nodes_machine
// params: uids
// returns: uid, props
// mode: read
// why: the stored properties of the Machine nodes a change log entry names, for an index catching
//      up (lineage.live); a node that no longer exists returns no row.
UNWIND $uids AS u
MATCH (n:Machine {uid: u})
RETURN n.uid AS uid, properties(n) AS props
