// name: node_search
// params: q, upper, lowered, kinds, limit
// returns: label, uid, name
// mode: read
// why: find nodes by uid prefix (as typed or upper-cased, as codes usually are) or by a piece of
// their name (a lot's material, a batch's product where they have no name), across the kinds asked
// for; at most `limit` per kind, the caller ranks them.
MATCH (n:Supplier) WHERE 'Supplier' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(n.name) CONTAINS $lowered)
RETURN 'Supplier' AS label, n.uid AS uid, n.name AS name LIMIT $limit
UNION ALL
MATCH (n:MaterialLot) WHERE 'MaterialLot' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(coalesce(n.name, n.material)) CONTAINS $lowered)
RETURN 'MaterialLot' AS label, n.uid AS uid, coalesce(n.name, n.material) AS name LIMIT $limit
UNION ALL
MATCH (n:Machine) WHERE 'Machine' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(n.name) CONTAINS $lowered)
RETURN 'Machine' AS label, n.uid AS uid, n.name AS name LIMIT $limit
UNION ALL
MATCH (n:Operator) WHERE 'Operator' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(n.name) CONTAINS $lowered)
RETURN 'Operator' AS label, n.uid AS uid, n.name AS name LIMIT $limit
UNION ALL
MATCH (n:Batch) WHERE 'Batch' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(coalesce(n.name, n.product)) CONTAINS $lowered)
RETURN 'Batch' AS label, n.uid AS uid, coalesce(n.name, n.product) AS name LIMIT $limit
UNION ALL
MATCH (n:Inspection) WHERE 'Inspection' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(coalesce(n.name, n.inspection_type)) CONTAINS $lowered)
RETURN 'Inspection' AS label, n.uid AS uid, coalesce(n.name, n.inspection_type) AS name LIMIT $limit
UNION ALL
MATCH (n:Shipment) WHERE 'Shipment' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(n.name) CONTAINS $lowered)
RETURN 'Shipment' AS label, n.uid AS uid, n.name AS name LIMIT $limit
UNION ALL
MATCH (n:Customer) WHERE 'Customer' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(n.name) CONTAINS $lowered)
RETURN 'Customer' AS label, n.uid AS uid, n.name AS name LIMIT $limit
UNION ALL
MATCH (n:Sale) WHERE 'Sale' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(n.name) CONTAINS $lowered)
RETURN 'Sale' AS label, n.uid AS uid, n.name AS name LIMIT $limit
UNION ALL
MATCH (n:Complaint) WHERE 'Complaint' IN $kinds
  AND (n.uid STARTS WITH $q OR n.uid STARTS WITH $upper OR toLower(coalesce(n.name, n.description)) CONTAINS $lowered)
RETURN 'Complaint' AS label, n.uid AS uid, coalesce(n.name, n.description) AS name LIMIT $limit
