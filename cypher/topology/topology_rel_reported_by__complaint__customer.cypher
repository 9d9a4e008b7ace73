// name: topology_rel_reported_by__complaint__customer
// params: none
// returns: src, dst
// mode: read
// why: every REPORTED_BY from a Complaint to a Customer, read once into the in-memory topology index.
MATCH (a:Complaint)-[r:REPORTED_BY]->(b:Customer)
RETURN a.uid AS src, b.uid AS dst
