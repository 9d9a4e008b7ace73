// name: epcis_mention_upsert
// params: rows
// returns: written
// mode: write
// changes: records
// why: one record per object an EPCIS event names (uid: event id and key), found by the indexed
//      `object`: a trace's evidence looks up the events of its objects without a scan of them all.
UNWIND $rows AS row
MERGE (m:EpcisMention {uid: row.uid})
SET m += row.props
RETURN count(m) AS written
