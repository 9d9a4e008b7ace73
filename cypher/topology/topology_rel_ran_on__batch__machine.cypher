// name: topology_rel_ran_on__batch__machine
// params: none
// returns: src, dst, start, end
// mode: read
// why: every RAN_ON from a Batch to a Machine, read once into the in-memory topology index.
MATCH (a:Batch)-[r:RAN_ON]->(b:Machine)
RETURN a.uid AS src, b.uid AS dst, r.start AS start, r.end AS end
