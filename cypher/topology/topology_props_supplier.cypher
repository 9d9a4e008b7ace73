// name: topology_props_supplier
// params: none
// returns: uid, props
// mode: read
// why: the stored properties of every Supplier, read once into the topology index so that a scope's
//      summary does not wait on thousands of lookups.
MATCH (n:Supplier)
RETURN n.uid AS uid, properties(n) AS props
