// name: topology_rel_handled_by__batch__operator
// params: none
// returns: src, dst, start, end
// mode: read
// why: every HANDLED_BY from a Batch to a Operator, read once into the in-memory topology index.
MATCH (a:Batch)-[r:HANDLED_BY]->(b:Operator)
RETURN a.uid AS src, b.uid AS dst, r.start AS start, r.end AS end
