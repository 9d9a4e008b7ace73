// name: hold_list
// params: recall
// returns: props
// mode: read
// why: a recall's holds (all of them when recall is null), active and released.
MATCH (h:Hold)
WHERE $recall IS NULL OR h.recall = $recall
RETURN properties(h) AS props
ORDER BY coalesce(h.batch, h.lot), h.location
