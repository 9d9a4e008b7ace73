// name: epcis_retract_links
// params: ids
// returns: removed
// mode: write
// changes: lineage
// why: an event declared in error by a later document: what only it said of its objects goes
//      (relationships whose evidence is that event alone), found from the objects the stored
//      event names, so nothing is scanned.
UNWIND $ids AS id
MATCH (e:EpcisEvent {uid: id})
UNWIND split(e.objects, ' ') AS key
MATCH (b:Batch {uid: key})-[r]-()
WHERE r.evidence = id
DELETE r
RETURN count(*) AS removed
