// name: followup_of_recall
// params: recall
// returns: props
// mode: read
// why: every follow-up action of a recall, oldest first, summed per customer by the caller.
MATCH (f:Followup)
WHERE f.recall = $recall
RETURN properties(f) AS props
ORDER BY f.at, f.uid
