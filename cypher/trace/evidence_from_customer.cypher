// name: evidence_from_customer
// params: uids
// returns: src, type, label, dst, evidence
// mode: read
// why: the evidence (event or document ids) on the relationships leaving these Customer nodes, for
//      the ones a scope walked; anchored on the indexed uid, so it costs what the scope holds.
UNWIND $uids AS uid
MATCH (a:Customer {uid: uid})-[r]->(b)
WHERE r.evidence IS NOT NULL
RETURN a.uid AS src, type(r) AS type, labels(b)[0] AS label, b.uid AS dst, r.evidence AS evidence
