// name: trace_lot_suppliers
// params: uids
// returns: lot, supplier
// mode: read
// why: who supplied each traced material lot.
UNWIND $uids AS u
MATCH (s:Supplier)-[:SUPPLIED]->(l:MaterialLot {uid: u})
RETURN u AS lot, s.uid AS supplier
