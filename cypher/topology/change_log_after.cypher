// name: change_log_after
// params: after, limit
// returns: seq, node_labels, node_uids, rel_types, rel_src_labels, rel_src, rel_dst_labels, rel_dst
// mode: read
// why: the change log's entries after the one an index holds, in order, for it to catch up
//      (lineage.live): each names the nodes (label i, uid i) and the relationships (type j, start's
//      label and uid j, end's label and uid j) one statement touched. By the index on seq.
MATCH (c:LineageChange)
WHERE c.seq > $after
RETURN c.seq AS seq, c.node_labels AS node_labels, c.node_uids AS node_uids, c.rel_types AS rel_types,
       c.rel_src_labels AS rel_src_labels, c.rel_src AS rel_src, c.rel_dst_labels AS rel_dst_labels,
       c.rel_dst AS rel_dst
ORDER BY seq
LIMIT $limit
