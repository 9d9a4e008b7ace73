// name: scope_machine_batches
// params: uid, window_from, window_to
// returns: uid, start, end
// mode: read
// why: batches whose run on the machine overlaps the window [window_from, window_to) in epoch ms.
MATCH (m:Machine {uid: $uid})<-[r:RAN_ON]-(b:Batch)
WHERE r.start < $window_to AND r.end > $window_from
RETURN b.uid AS uid, r.start AS start, r.end AS end
