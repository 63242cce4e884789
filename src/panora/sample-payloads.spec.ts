import { normaliseEventType, PANORA_SCOPES } from './panora-event-types';
import { sampleEvent } from './sample-payloads';

describe('sampleEvent', () => {
  it('should have a sample for every scope Panora offers, delivered under a type that normalises back to it', () => {
    for (const scope of PANORA_SCOPES) {
      const sample = sampleEvent(scope);
      expect(sample).not.toBeNull();
      expect(normaliseEventType(sample!.deliveredType)).toBe(scope);
    }
  });

  it('should deliver the .created scopes Panora sends as .push under .push', () => {
    expect(sampleEvent('crm.company.created')!.deliveredType).toBe('crm.company.push');
    expect(sampleEvent('ticketing.ticket.created')!.deliveredType).toBe('ticketing.ticket.push');
    expect(sampleEvent('crm.contact.created')!.deliveredType).toBe('crm.contact.created');
  });

  it('should build a Connection row with a connection token and Panora-encrypted OAuth blobs', () => {
    const payload = sampleEvent('connection.created')!.payload as Record<string, unknown>;
    expect(payload).toMatchObject({ status: 'valid', provider_slug: 'hubspot', vertical: 'crm' });
    expect(payload.id_connection).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.connection_token).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.access_token).toMatch(/^[0-9a-f]+:[0-9a-f]+$/);
    expect(payload.id_linked_user).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should build unified objects for .created and arrays of raw rows with their id column for .pulled', () => {
    const contact = sampleEvent('crm.contact.created')!.payload as Record<string, any>;
    expect(contact.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(contact.email_addresses[0].email_address).toMatch(/@example\.com$/);
    expect(contact.modified_at).toEqual(expect.any(String));

    const rows = sampleEvent('crm.stage.pulled')!.payload as Record<string, unknown>[];
    expect(rows).toHaveLength(2);
    expect(rows[0].id_crm_deals_stage).toMatch(/^[0-9a-f-]{36}$/);
    const contacts = sampleEvent('crm.contact.pulled')!.payload as Record<string, unknown>[];
    expect(contacts[0].id_crm_contact).toEqual(expect.any(String));
    expect(contacts[0].email_addresses).toBeUndefined();
  });

  it('should have none for types Panora does not offer', () => {
    expect(sampleEvent('crm.contact.exploded')).toBeNull();
    expect(sampleEvent('whatever')).toBeNull();
  });

  it('should make fresh ids every time', () => {
    const a = sampleEvent('connection.created')!.payload as { id_connection: string };
    const b = sampleEvent('connection.created')!.payload as { id_connection: string };
    expect(a.id_connection).not.toBe(b.id_connection);
  });
});
