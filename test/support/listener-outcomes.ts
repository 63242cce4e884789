/**
 * Each event's listener outcomes as the admin API shows them (InboxRepository.listeners): the rows
 * of `webhook_event_listeners`, and the listeners of a first attempt that succeeded whole, which
 * the event row keeps in `listeners_succeeded` instead of writing rows. Columns: event_id,
 * listener, status, attempts, last_error. Use it as a table: `FROM ${LISTENER_OUTCOMES} AS l`.
 */
export const LISTENER_OUTCOMES = `(
  SELECT event_id, listener, status, attempts, last_error FROM webhook_event_listeners
  UNION ALL
  SELECT e.id, s.listener, 'succeeded', 1, NULL::text
    FROM webhook_events e, unnest(e.listeners_succeeded) AS s(listener)
   WHERE NOT EXISTS (SELECT 1 FROM webhook_event_listeners r WHERE r.event_id = e.id AND r.listener = s.listener)
)`;
