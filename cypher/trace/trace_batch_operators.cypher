// name: trace_batch_operators
// params: uids
// returns: batch, operator, start, end
// mode: read
// why: the operators who handled each traced batch, with their window.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:HANDLED_BY]->(o:Operator)
RETURN u AS batch, o.uid AS operator, r.start AS start, r.end AS end
