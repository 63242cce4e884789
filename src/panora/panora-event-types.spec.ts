import { isKnownScope, normaliseEventType, PANORA_SCOPES } from './panora-event-types';

describe(normaliseEventType.name, () => {
  it.each([
    ['crm.company.push', 'crm.company.created'],
    ['crm.deal.push', 'crm.deal.created'],
    ['ticketing.ticket.push', 'ticketing.ticket.created'],
    ['ecommerce.order.push', 'ecommerce.order.created'],
    ['crm.contact.created', 'crm.contact.created'],
    ['connection.created', 'connection.created'],
    ['crm.contact.pulled', 'crm.contact.pulled'],
    ['filestorage.file.created', 'filestorage.file.created'],
  ])('should map %s to %s', (delivered, expected) => {
    expect(normaliseEventType(delivered)).toBe(expected);
  });

  it('should keep unknown types as they are, to be stored and marked unhandled', () => {
    expect(normaliseEventType('crm.hubspot.passthrough')).toBe('crm.hubspot.passthrough');
    expect(normaliseEventType('something odd!')).toBe('something odd!');
  });
});

describe(isKnownScope.name, () => {
  it('should know the scopes Panora offers and nothing else', () => {
    expect(isKnownScope('connection.created')).toBe(true);
    expect(isKnownScope('crm.company.created')).toBe(true);
    expect(isKnownScope('crm.stage.pulled')).toBe(true);
    expect(isKnownScope('crm.stage.created')).toBe(false);
    expect(isKnownScope('crm.company.push')).toBe(false);
    expect(PANORA_SCOPES).toContain('filestorage.sharedlink.pulled');
  });
});
