// name: epcis_events_between
// params: start, end, after_time, after_id, limit
// returns: id, event_time, body, declaration, context
// mode: read
// why: every stored event that happened in [start, end), a page at a time in time order (after the
//      last page's last event: its time and id), to send a period's lineage on as an EPCIS document.
MATCH (e:EpcisEvent)
WHERE e.event_time >= $start AND e.event_time < $end
  AND (e.event_time > $after_time OR (e.event_time = $after_time AND e.uid > $after_id))
RETURN e.uid AS id, e.event_time AS event_time, e.body AS body, e.declaration AS declaration, e.context AS context
ORDER BY event_time, id
LIMIT $limit
