import { missedEventMessage, stableId } from './recovery-recoverer';
import type { MissedEventRow } from './recovery.repository';

describe('recovery.event.missed', () => {
  const row = (overrides: Partial<MissedEventRow> = {}): MissedEventRow => ({
    id_event: 'ev-1',
    seq: '1',
    type: 'ticketing.ticket.push',
    normalized_type: 'ticketing.ticket.created',
    id_connection: 'conn-1',
    provider: 'zendesk',
    panora_timestamp: new Date('2026-12-01T10:00:00.000Z'),
    endpoint_id: null,
    reason: 'r',
    status: 'pending',
    attempts: 0,
    last_error: null,
    detected_at: new Date(),
    settled_at: null,
    ...overrides,
  });

  it("should carry Panora's metadata of the event, keyed by its connection, marked recovered", () => {
    expect(missedEventMessage(row())).toEqual({
      type: 'recovery.event.missed',
      key: 'connection:conn-1',
      id: stableId('recovery.event.missed:ev-1'),
      occurredAt: new Date('2026-12-01T10:00:00.000Z'),
      recovered: true,
      data: {
        id_event: 'ev-1',
        type: 'ticketing.ticket.push',
        id_connection: 'conn-1',
        timestamp: '2026-12-01T10:00:00.000Z',
        provider: 'zendesk',
      },
    });
    expect(missedEventMessage(row({ id_connection: null })).key).toBe('panora-event:ev-1');
  });

  it('should derive the same UUID from the same name, and another from another', () => {
    const id = stableId('recovery.event.missed:ev-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableId('recovery.event.missed:ev-1')).toBe(id);
    expect(stableId('recovery.event.missed:ev-2')).not.toBe(id);
  });
});
