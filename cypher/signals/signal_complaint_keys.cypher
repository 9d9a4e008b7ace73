// name: signal_complaint_keys
// params: uid, trace_keys
// returns: uid
// mode: write
// changes: lineage
// why: what a complaint traces to (batch, lots, suppliers, machines, operators, product, region), kept at intake
// so that evaluating signals does not trace every complaint again.
MATCH (c:Complaint {uid: $uid})
SET c.trace_keys = $trace_keys
RETURN c.uid AS uid
