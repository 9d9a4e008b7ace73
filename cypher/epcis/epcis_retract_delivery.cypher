// name: epcis_retract_delivery
// params: ids
// returns: trimmed
// mode: write
// changes: lineage
// why: a receiving event declared in error is taken off the delivery it completed (its id on the
//      DELIVERED_TO of the shipment that carried what it names); the delivery time it gave stays.
UNWIND $ids AS id
MATCH (e:EpcisEvent {uid: id})
UNWIND split(e.objects, ' ') AS key
MATCH (:Batch {uid: key})-[:SHIPPED_IN]->(:Shipment)-[r:DELIVERED_TO]->(:Customer)
WHERE r.evidence <> id AND (' ' + r.evidence + ' ') CONTAINS (' ' + id + ' ')
SET r.evidence = trim(replace(' ' + r.evidence + ' ', ' ' + id + ' ', ' '))
RETURN count(*) AS trimmed
