// name: fsma_lot_receipts
// params: uids
// returns: lot, supplier, evidence
// mode: read
// why: who supplied each material lot, and the record of its receipt where one was given.
UNWIND $uids AS u
MATCH (s:Supplier)-[r:SUPPLIED]->(l:MaterialLot {uid: u})
RETURN u AS lot, s.uid AS supplier, r.evidence AS evidence
