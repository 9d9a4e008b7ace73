// name: topology_rel_inspected__inspection__lot
// params: none
// returns: src, dst
// mode: read
// why: every INSPECTED from a Inspection to a MaterialLot, read once into the in-memory topology index.
MATCH (a:Inspection)-[r:INSPECTED]->(b:MaterialLot)
RETURN a.uid AS src, b.uid AS dst
