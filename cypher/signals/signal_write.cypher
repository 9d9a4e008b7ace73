// name: signal_write
// params: rows
// returns: written
// mode: write
// changes: records
// why: signals raised or grown by an evaluation, one row (uid, props) each; MERGE makes a second evaluation a no-op.
UNWIND $rows AS row
MERGE (s:Signal {uid: row.uid})
SET s += row.props
RETURN count(s) AS written
