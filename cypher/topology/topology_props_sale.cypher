// name: topology_props_sale
// params: none
// returns: uid, props
// mode: read
// why: the stored properties of every Sale, read once into the topology index so that a page of
//      a scope (sales are most of one) or a scope asked for every kind's properties needs no lookup.
MATCH (n:Sale)
RETURN n.uid AS uid, properties(n) AS props
