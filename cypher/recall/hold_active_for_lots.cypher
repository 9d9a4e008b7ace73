// name: hold_active_for_lots
// params: uids
// returns: uid, lot, recall, placed_at
// mode: read
// why: which of these material lots are on hold, so that a load never has a new batch consume one.
MATCH (h:Hold)
WHERE h.lot IN $uids AND h.status = 'active'
RETURN h.uid AS uid, h.lot AS lot, h.recall AS recall, h.placed_at AS placed_at
ORDER BY lot, uid
