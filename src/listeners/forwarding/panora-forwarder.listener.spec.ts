import { stableUuid, typeMisfit } from './panora-forwarder.listener';

describe('stableUuid', () => {
  it('should give the same UUID (version 8, RFC 9562 variant) for the same text, and another for other text', () => {
    const id = stableUuid('panora-event:endpoint:event-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('panora-event:endpoint:event-1')).toBe(id);
    expect(stableUuid('panora-event:endpoint:event-2')).not.toBe(id);
  });
});

describe('typeMisfit', () => {
  it('should accept the shapes Panora sends under each type', () => {
    expect(typeMisfit('crm.contact.pulled', [{ id_crm_contact: 'c1' }])).toBeNull();
    expect(typeMisfit('crm.contact.pulled', [])).toBeNull();
    expect(typeMisfit('crm.contact.created', { id: 'c1' })).toBeNull();
    expect(typeMisfit('crm.contact.deleted', { id: 'c1' })).toBeNull();
    expect(typeMisfit('connection.created', { id_connection: 'c1', connection_token: 't' })).toBeNull();
  });

  it('should say what does not fit, naming shapes and never values', () => {
    expect(typeMisfit('crm.contact.pulled', { id: 'secret-looking-value' })).toBe(
      'expected an array of rows, got an object',
    );
    expect(typeMisfit('crm.company.created', [{ id: 'c1' }])).toBe('expected one object, got an array');
    expect(typeMisfit('crm.deal.updated', 'text')).toBe('expected one object, got a string');
    expect(typeMisfit('ticketing.ticket.created', null)).toBe('expected one object, got null');
    expect(typeMisfit('connection.created', { id: 'ct-1', first_name: 'Eve' })).toBe(
      'expected a connection, got an object without id_connection',
    );
    expect(typeMisfit('connection.created', [{ id_connection: 'c1' }])).toBe('expected one object, got an array');
  });
});
