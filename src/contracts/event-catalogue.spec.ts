import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EVENT_CONTRACTS, renderEventCatalogue, withEventCatalogue } from '.';

const EVENTS = resolve(__dirname, '../../docs/events.md');

describe('the event catalogue', () => {
  it('should keep docs/events.md in step with EVENT_CONTRACTS (npm run docs:events)', () => {
    const document = readFileSync(EVENTS, 'utf8');
    expect(withEventCatalogue(document)).toBe(document);
  });

  it('should name every routing key with when it fires, and show an example of each description', () => {
    const catalogue = renderEventCatalogue();
    for (const contract of EVENT_CONTRACTS) {
      expect(catalogue).toContain(`| \`${contract.routingKey}\` |`);
      expect(catalogue).toContain(contract.description);
    }
    expect(catalogue).toContain('"idConnection"');
    expect(catalogue).toContain('"id_event"');
  });

  it('should refuse a document without the markers', () => {
    expect(() => withEventCatalogue('# no markers')).toThrow(/markers/);
  });
});
