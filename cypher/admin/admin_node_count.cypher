// name: admin_node_count
// params: none
// returns: nodes
// mode: read
// why: a load into an empty graph may take the engine's bulk path; both engines count nodes from a store.
MATCH (n)
RETURN count(n) AS nodes
