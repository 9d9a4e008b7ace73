// name: topology_nodes_shipment
// params: uids
// returns: uid, props
// mode: read
// why: the stored properties of the Shipment nodes a change log entry names, for an index catching
//      up (lineage.live); a node that no longer exists returns no row.
UNWIND $uids AS u
MATCH (n:Shipment {uid: u})
RETURN n.uid AS uid, properties(n) AS props
