// name: balance_batch_consumers
// params: uids
// returns: batch, consumer, quantity, unit, evidence, at
// mode: read
// why: what of each batch went into other batches (an intermediate, a batch reworked), for the mass balance.
UNWIND $uids AS u
MATCH (b:Batch {uid: u})-[r:CONSUMED_BY]->(c:Batch)
RETURN b.uid AS batch, c.uid AS consumer, r.quantity AS quantity, r.unit AS unit, r.evidence AS evidence,
       c.started_at AS at
ORDER BY batch, consumer
