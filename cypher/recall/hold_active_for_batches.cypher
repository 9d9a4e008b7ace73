// name: hold_active_for_batches
// params: uids
// returns: uid, batch, recall, location
// mode: read
// why: which of these batches are on hold, so that a load or a post never ships one.
MATCH (h:Hold)
WHERE h.batch IN $uids AND h.status = 'active'
RETURN h.uid AS uid, h.batch AS batch, h.recall AS recall, h.location AS location
ORDER BY batch, uid
