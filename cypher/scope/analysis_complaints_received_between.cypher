// name: analysis_complaints_received_between
// params: window_from, window_to
// returns: uid, category, received_at
// mode: read
// why: the complaints a filter chooses for a common-cause analysis: those received in [window_from, window_to).
MATCH (c:Complaint)
WHERE c.received_at >= $window_from AND c.received_at < $window_to
RETURN c.uid AS uid, c.category AS category, c.received_at AS received_at
ORDER BY uid
