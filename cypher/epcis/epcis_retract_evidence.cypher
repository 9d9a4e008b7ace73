// name: epcis_retract_evidence
// params: ids
// returns: trimmed
// mode: write
// changes: lineage
// why: a relationship another event also said stays, without the id of the event declared in error.
UNWIND $ids AS id
MATCH (e:EpcisEvent {uid: id})
UNWIND split(e.objects, ' ') AS key
MATCH (b:Batch {uid: key})-[r]-()
WHERE r.evidence <> id AND (' ' + r.evidence + ' ') CONTAINS (' ' + id + ' ')
SET r.evidence = trim(replace(' ' + r.evidence + ' ', ' ' + id + ' ', ' '))
RETURN count(*) AS trimmed
