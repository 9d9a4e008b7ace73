// name: topology_rel_about__complaint__batch
// params: none
// returns: src, dst
// mode: read
// why: every ABOUT from a Complaint to a Batch, read once into the in-memory topology index.
MATCH (a:Complaint)-[r:ABOUT]->(b:Batch)
RETURN a.uid AS src, b.uid AS dst
