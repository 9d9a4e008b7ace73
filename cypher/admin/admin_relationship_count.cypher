// name: admin_relationship_count
// params: none
// returns: relationships
// mode: read
// why: `lineage status` reports how many relationships are stored.
MATCH ()-[r]->()
RETURN count(r) AS relationships
