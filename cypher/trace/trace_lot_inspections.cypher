// name: trace_lot_inspections
// params: uids
// returns: subject, inspection
// mode: read
// why: incoming inspections of traced material lots.
UNWIND $uids AS u
MATCH (i:Inspection)-[:INSPECTED]->(l:MaterialLot {uid: u})
RETURN u AS subject, i.uid AS inspection
