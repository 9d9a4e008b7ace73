// name: trace_batch_inspections
// params: uids
// returns: subject, inspection
// mode: read
// why: inspections of traced batches (measurement: what passed that later failed).
UNWIND $uids AS u
MATCH (i:Inspection)-[:INSPECTED]->(b:Batch {uid: u})
RETURN u AS subject, i.uid AS inspection
