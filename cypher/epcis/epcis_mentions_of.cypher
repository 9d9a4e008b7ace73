// name: epcis_mentions_of
// params: keys
// returns: event, object, role, at
// mode: read
// why: the EPCIS events that name these objects, through the index on EpcisMention.object.
UNWIND $keys AS key
MATCH (m:EpcisMention {object: key})
RETURN m.event AS event, m.object AS object, m.role AS role, m.at AS at
