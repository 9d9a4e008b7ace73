// name: epcis_retract_orphans
// params: shipments
// returns: removed
// mode: write
// changes: lineage
// why: a shipment that nothing links any more (its shipping event was declared in error) goes.
UNWIND $shipments AS uid
MATCH (s:Shipment {uid: uid})
WHERE NOT (s)--()
DELETE s
RETURN count(*) AS removed
