// name: hold_write
// params: rows
// returns: written
// mode: write
// changes: records
// why: places holds or records their release, one row (uid, props) each.
UNWIND $rows AS row
MERGE (h:Hold {uid: row.uid})
SET h += row.props
RETURN count(h) AS written
