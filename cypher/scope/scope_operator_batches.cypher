// name: scope_operator_batches
// params: uid, window_from, window_to
// returns: uid, start, end
// mode: read
// why: batches the operator handled during a time that overlaps [window_from, window_to) in epoch ms.
MATCH (o:Operator {uid: $uid})<-[r:HANDLED_BY]-(b:Batch)
WHERE r.start < $window_to AND r.end > $window_from
RETURN b.uid AS uid, r.start AS start, r.end AS end
