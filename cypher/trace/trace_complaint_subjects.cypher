// name: trace_complaint_subjects
// params: uid
// returns: label, uid
// mode: read
// why: a complaint names a batch or a sale; the trace starts from whichever it names.
MATCH (c:Complaint {uid: $uid})-[:ABOUT]->(x)
RETURN labels(x)[0] AS label, x.uid AS uid
