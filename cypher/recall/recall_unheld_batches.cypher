// name: recall_unheld_batches
// params: uids
// returns: recall, batch
// mode: read
// why: which of these batches an active recall names but holds nowhere (nothing was left of them to hold), so that none ships while it is active.
MATCH (r:Recall)
WHERE r.state = 'active' AND any(b IN r.batches WHERE b IN $uids)
UNWIND [b IN r.batches WHERE b IN $uids] AS batch
OPTIONAL MATCH (h:Hold)
WHERE h.recall = r.uid AND h.batch = batch
WITH r, batch, count(h) AS holds
WHERE holds = 0
RETURN r.uid AS recall, batch
ORDER BY batch, recall
