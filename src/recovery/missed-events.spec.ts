import { deliveredType, missedReason, planFor, subscribedEndpoint } from './missed-events';

describe('Missed events', () => {
  describe('deliveredType', () => {
    it.each([
      ['connection.created', 'GET', 'connection.created'],
      ['crm.contact.created', 'POST', 'crm.contact.created'],
      ['crm.company.push', 'POST', 'crm.company.created'],
      ['ticketing.ticket.push', 'POST', 'ticketing.ticket.created'],
      ['crm.contact.pulled', 'SYNC', 'crm.contact.pulled'],
      ['crm.stage.pulled', 'sync', 'crm.stage.pulled'],
      ['filestorage.file.pulled', 'SYNC', 'filestorage.file.pulled'],
    ])('should keep %s (%s) as %s', (type, method, expected) => {
      expect(deliveredType({ type, method })).toBe(expected);
    });

    it.each([
      // Our own list reads (and anyone's): written to /events, never dispatched.
      ['crm.company.pulled', 'GET'],
      ['crm.contact.pull', 'GET'],
      ['crm.contact.pulled', null],
      ['pull', 'GET'],
      ['crm.hubspot.passthrough', 'POST'],
      ['crm.batchSyncStart', 'GET'],
      ['something', 'POST'],
    ])('should leave out %s (%s)', (type, method) => {
      expect(deliveredType({ type, method })).toBeNull();
    });
  });

  it('should find the first active endpoint subscribed to the type', () => {
    const endpoints = [
      { id: 'a', scope: ['connection.created'] },
      { id: 'b', scope: ['crm.company.created', 'connection.created'] },
    ];
    expect(subscribedEndpoint('connection.created', endpoints)?.id).toBe('a');
    expect(subscribedEndpoint('crm.company.created', endpoints)?.id).toBe('b');
    expect(subscribedEndpoint('crm.deal.created', endpoints)).toBeUndefined();
  });

  it('should say why an event is believed missed', () => {
    const reason = missedReason(
      { type: 'crm.company.push', method: 'POST', timestamp: '2026-12-01T10:00:00.000Z' },
      'crm.company.created',
      'endpoint-1',
    );
    expect(reason).toContain('crm.company.push (crm.company.created) POST at 2026-12-01T10:00:00.000Z');
    expect(reason).toContain('endpoint endpoint-1 subscribes to crm.company.created');
  });

  it('should plan a reconciliation, a CRM re-read or a bus message', () => {
    expect(planFor('connection.created')).toEqual({ action: 'reconcile' });
    expect(planFor('crm.contact.created')).toMatchObject({
      action: 'reread',
      crm: { kind: 'contact', path: 'crm/contacts' },
    });
    expect(planFor('crm.company.pulled')).toMatchObject({ action: 'reread', crm: { kind: 'company' } });
    expect(planFor('ticketing.ticket.created')).toEqual({ action: 'publish' });
    expect(planFor('filestorage.file.pulled')).toEqual({ action: 'publish' });
  });
});
