// name: trace_batch_machines
// params: uids
// returns: batch, machine, start, end
// mode: read
// why: the machines each traced batch ran on, with the run window.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:RAN_ON]->(m:Machine)
RETURN u AS batch, m.uid AS machine, r.start AS start, r.end AS end
