import { stableUuid } from './panora-forwarder.listener';

describe('stableUuid', () => {
  it('should give the same UUID (version 8, RFC 9562 variant) for the same text, and another for other text', () => {
    const id = stableUuid('panora-event:endpoint:event-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('panora-event:endpoint:event-1')).toBe(id);
    expect(stableUuid('panora-event:endpoint:event-2')).not.toBe(id);
  });
});
