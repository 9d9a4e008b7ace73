// name: admin_label_counts
// params: none
// returns: label, nodes
// mode: read
// why: `lineage status` reports how much data there is, per kind (the change log's entries are not data).
MATCH (n)
WHERE NOT n:LineageChange
RETURN labels(n)[0] AS label, count(n) AS nodes
