// name: epcis_event_upsert
// params: rows
// returns: written
// mode: write
// changes: records
// why: an EPCIS event is kept whole beside the lineage it made; MERGE on its id, so a document
//   imported twice keeps one, and a later declaration of error adds `retracted` to the one stored.
UNWIND $rows AS row
MERGE (e:EpcisEvent {uid: row.uid})
SET e += row.props
RETURN count(e) AS written
