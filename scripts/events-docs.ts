/**
 * Writes the event catalogue into docs/events.md (between its markers) from the bus's event
 * contracts (src/contracts). Run with `npm run docs:events`; src/contracts/event-catalogue.spec.ts
 * fails while it is out of step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withEventCatalogue } from '../src/contracts';

const EVENTS = 'docs/events.md';

const before = readFileSync(EVENTS, 'utf8');
const after = withEventCatalogue(before);
if (after === before) {
  process.stdout.write(`${EVENTS}: up to date\n`);
} else {
  writeFileSync(EVENTS, after);
  process.stdout.write(`${EVENTS}: written\n`);
}
