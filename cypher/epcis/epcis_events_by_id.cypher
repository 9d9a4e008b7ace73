// name: epcis_events_by_id
// params: ids
// returns: id, event_type, event_time, action, biz_step, biz_location, biz_transactions, parent, objects, retracted
// mode: read
// why: what a trace's evidence ids are, when they happened, for listing them in time order.
UNWIND $ids AS id
MATCH (e:EpcisEvent {uid: id})
RETURN e.uid AS id, e.event_type AS event_type, e.event_time AS event_time, e.action AS action,
       e.biz_step AS biz_step, e.biz_location AS biz_location, e.biz_transactions AS biz_transactions,
       e.parent AS parent, e.objects AS objects, e.retracted AS retracted
