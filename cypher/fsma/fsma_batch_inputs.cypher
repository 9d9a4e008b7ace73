// name: fsma_batch_inputs
// params: uids
// returns: batch, label, input, quantity, unit, evidence
// mode: read
// why: the foods each batch was made from (lots and batches), with the record of it: the
//      transformation's key data elements name every food used, in the trace or not.
UNWIND $uids AS u
MATCH (i)-[r:CONSUMED_BY]->(b:Batch {uid: u})
RETURN u AS batch, labels(i)[0] AS label, i.uid AS input, r.quantity AS quantity, r.unit AS unit,
       r.evidence AS evidence
