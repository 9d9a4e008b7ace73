// name: balance_lot_uses
// params: uid
// returns: batch, quantity, unit, evidence, at
// mode: read
// why: what went out of a lot into batches, each consumption with its record, for the mass balance.
MATCH (l:MaterialLot {uid: $uid})-[r:CONSUMED_BY]->(b:Batch)
RETURN b.uid AS batch, r.quantity AS quantity, r.unit AS unit, r.evidence AS evidence, b.started_at AS at
ORDER BY batch
