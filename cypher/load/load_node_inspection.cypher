// name: load_node_inspection
// params: rows
// returns: written
// mode: write
// changes: lineage
// why: one UNWIND per batch of rows (uid, props); MERGE on uid makes loading the same data twice a no-op.
UNWIND $rows AS row
MERGE (n:Inspection {uid: row.uid})
SET n += row.props
RETURN count(n) AS written
