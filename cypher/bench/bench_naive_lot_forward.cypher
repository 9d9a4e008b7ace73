// name: bench_naive_lot_forward
// params: uid
// returns: label, uid
// mode: read
// why: the variable-length pattern lineage does not use, kept only for the benchmark that shows why:
// it enumerates every path, and lineage graphs, where batches share inputs, have exponentially many.
MATCH (s:MaterialLot {uid: $uid})-[:CONSUMED_BY|SHIPPED_IN|DELIVERED_TO|SOLD_IN*]->(n)
RETURN DISTINCT labels(n)[0] AS label, n.uid AS uid
