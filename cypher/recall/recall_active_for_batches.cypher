// name: recall_active_for_batches
// params: uids
// returns: uid, product, remedy, risk, deadline, instructions
// mode: read
// why: the public lookup: which active recalls hold any of these batches, and only what a consumer may see.
MATCH (r:Recall)
WHERE r.state = 'active' AND any(b IN r.batches WHERE b IN $uids)
RETURN r.uid AS uid, r.product AS product, r.remedy AS remedy, r.risk AS risk, r.deadline AS deadline,
       r.instructions AS instructions
ORDER BY uid
