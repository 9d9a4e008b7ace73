// name: epcis_event_bodies
// params: ids
// returns: id, event_time, body, declaration, context
// mode: read
// why: the events a trace rests on, whole, with what their documents' contexts declare, to send them on as an EPCIS document.
UNWIND $ids AS id
MATCH (e:EpcisEvent {uid: id})
RETURN e.uid AS id, e.event_time AS event_time, e.body AS body, e.declaration AS declaration, e.context AS context
ORDER BY event_time, id
