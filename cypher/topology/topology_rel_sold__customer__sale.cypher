// name: topology_rel_sold__customer__sale
// params: none
// returns: src, dst
// mode: read
// why: every SOLD from a Customer to a Sale, read once into the in-memory topology index.
MATCH (a:Customer)-[r:SOLD]->(b:Sale)
RETURN a.uid AS src, b.uid AS dst
