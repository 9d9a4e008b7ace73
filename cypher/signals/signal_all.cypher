// name: signal_all
// params: none
// returns: uid, props
// mode: read
// why: every signal, for evaluation (which groups have a live one, which complaints closed ones took) and listing.
MATCH (s:Signal)
RETURN s.uid AS uid, properties(s) AS props
ORDER BY uid
