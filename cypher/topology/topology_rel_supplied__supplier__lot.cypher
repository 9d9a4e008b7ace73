// name: topology_rel_supplied__supplier__lot
// params: none
// returns: src, dst
// mode: read
// why: every SUPPLIED from a Supplier to a MaterialLot, read once into the in-memory topology index.
MATCH (a:Supplier)-[r:SUPPLIED]->(b:MaterialLot)
RETURN a.uid AS src, b.uid AS dst
