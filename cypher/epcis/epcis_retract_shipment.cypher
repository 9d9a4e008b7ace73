// name: epcis_retract_shipment
// params: rows
// returns: removed
// mode: write
// changes: lineage
// why: the shipment a shipping event declared in error made (uid from the event id) loses what
//      only that event said; a receipt of another event naming it keeps its delivery.
UNWIND $rows AS row
MATCH (s:Shipment {uid: row.shipment})-[r]-()
WHERE r.evidence = row.id
DELETE r
RETURN count(*) AS removed
