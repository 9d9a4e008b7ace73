// name: topology_rel_inspected__inspection__batch
// params: none
// returns: src, dst
// mode: read
// why: every INSPECTED from a Inspection to a Batch, read once into the in-memory topology index.
MATCH (a:Inspection)-[r:INSPECTED]->(b:Batch)
RETURN a.uid AS src, b.uid AS dst
