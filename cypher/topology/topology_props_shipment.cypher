// name: topology_props_shipment
// params: none
// returns: uid, props
// mode: read
// why: the stored properties of every Shipment, read once into the topology index so that the
//      affected summary (when, which carrier, which document) does not wait on a lookup.
MATCH (n:Shipment)
RETURN n.uid AS uid, properties(n) AS props
