// name: topology_rel_about__complaint__sale
// params: none
// returns: src, dst
// mode: read
// why: every ABOUT from a Complaint to a Sale, read once into the in-memory topology index.
MATCH (a:Complaint)-[r:ABOUT]->(b:Sale)
RETURN a.uid AS src, b.uid AS dst
