// name: admin_label_counts
// params: none
// returns: label, nodes
// mode: read
// why: `lineage status` reports how much data there is, per kind.
MATCH (n)
RETURN labels(n)[0] AS label, count(n) AS nodes
