// name: signal_complaints_between
// params: window_from, window_to
// returns: uid, received_at, category, safety, verification, trace_keys
// mode: read
// why: the complaints a signal rule counts: those received in [window_from, window_to), with what they trace to.
MATCH (c:Complaint)
WHERE c.received_at >= $window_from AND c.received_at < $window_to
RETURN c.uid AS uid, c.received_at AS received_at, c.category AS category, c.safety AS safety,
       c.verification AS verification, c.trace_keys AS trace_keys
ORDER BY received_at, uid
