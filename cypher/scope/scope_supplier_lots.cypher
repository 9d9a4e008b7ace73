// name: scope_supplier_lots
// params: uid
// returns: uid
// mode: read
// why: a supplier-wide scope starts from every lot the supplier delivered.
MATCH (s:Supplier {uid: $uid})-[:SUPPLIED]->(l:MaterialLot)
RETURN l.uid AS uid
