// name: load_rel_consumed_by__batch__batch
// params: rows
// returns: written, seq, token
// mode: write
// changes: lineage
// why: endpoints are matched by indexed uid; MERGE keeps one CONSUMED_BY per pair, so reloads change
//      nothing; the evidence ids it had are kept and new ones added (a later input naming the
//      same pair adds its event to what the relationship rests on). Its tail appends, in the same
//      statement, the change log's next entry naming the CONSUMED_BY relationships written
//      (lineage.live); `locked` is set before seq is read so that on Neo4j the revision's write
//      lock is held first and two writers never take the same number.
UNWIND $rows AS row
MATCH (a:Batch {uid: row.src})
MATCH (b:Batch {uid: row.dst})
MERGE (a)-[r:CONSUMED_BY]->(b)
WITH a, b, r, row, r.evidence AS had
SET r += row.props
SET r.evidence = CASE WHEN had IS NULL OR row.props.evidence IS NULL THEN coalesce(row.props.evidence, had)
    ELSE reduce(s = had, x IN split(row.props.evidence, ' ') | CASE WHEN x IN split(s, ' ') THEN s ELSE s + ' ' + x END) END
WITH count(r) AS written, collect([a.uid, b.uid]) AS keys
WITH written, CASE WHEN written > 0 THEN keys END AS keys
MERGE (clock:Revision {uid: 'lineage'})
SET clock.locked = true
SET clock.seq = coalesce(clock.seq, 0) + 1
CREATE (:LineageChange {seq: clock.seq, at: timestamp(), rel_types: [k IN keys | 'CONSUMED_BY'],
                        rel_src_labels: [k IN keys | 'Batch'], rel_src: [k IN keys | k[0]],
                        rel_dst_labels: [k IN keys | 'Batch'], rel_dst: [k IN keys | k[1]]})
RETURN written, clock.seq AS seq, clock.token AS token
