import { randomUUID } from 'node:crypto';
import { connectionPayload, delivery } from '../../support/panora';

export interface Delivery {
  idEvent: string;
  type: string;
  headers: Record<string, string>;
  body: string;
  /** The connection token the payload carries, if any (a secret to look for in logs). */
  token?: string;
}

export interface Answer {
  /** HTTP status, or 0 when no answer came (connection refused or reset). */
  status: number;
  text: string;
}

/** POST with fetch; a network error is an answer with status 0 (a sender would retry it). */
export async function postDelivery(url: string, d: Delivery): Promise<Answer> {
  try {
    const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/**
 * A realistic mix, each built as Panora's sender builds it: `connection.created` (distinct
 * connections), `crm.contact.created` and `crm.company.push` (distinct ids, a `modified_at` each),
 * and for one contact in ten a second, newer version (so arrival order matters to the result).
 */
export function mixedDeliveries(secret: string, count: number, prefix = randomUUID().slice(0, 8)): Delivery[] {
  const out: Delivery[] = [];
  const base = Date.parse('2026-11-01T00:00:00.000Z');
  for (let i = 0; out.length < count; i++) {
    const at = (minutes: number) => new Date(base + (i * 10 + minutes) * 60_000).toISOString();
    switch (i % 3) {
      case 0: {
        const payload = connectionPayload();
        out.push({
          ...delivery({ secret, type: 'connection.created', payload }),
          type: 'connection.created',
          token: payload.connection_token,
        });
        break;
      }
      case 1: {
        const id = `${prefix}-ct-${i}`;
        const contact = (version: number) => ({
          id,
          first_name: `Ada ${i}`,
          last_name: `v${version}`,
          email_addresses: [{ email_address: `ada${i}.v${version}@example.test`, email_address_type: 'PRIMARY' }],
          phone_numbers: [],
          addresses: [],
          field_mappings: {},
          remote_id: `r-ct-${i}`,
          created_at: at(0),
          modified_at: at(version),
        });
        out.push({
          ...delivery({ secret, type: 'crm.contact.created', payload: contact(1) }),
          type: 'crm.contact.created',
        });
        if (i % 10 === 1 && out.length < count) {
          out.push({
            ...delivery({ secret, type: 'crm.contact.created', payload: contact(2) }),
            type: 'crm.contact.created',
          });
        }
        break;
      }
      default: {
        const payload = {
          id: `${prefix}-co-${i}`,
          name: `Company ${i}`,
          industry: 'software',
          email_addresses: [{ email_address: `hello@co${i}.example.test`, email_address_type: 'WORK' }],
          remote_id: `r-co-${i}`,
          created_at: at(0),
          modified_at: at(1),
        };
        out.push({ ...delivery({ secret, type: 'crm.company.push', payload }), type: 'crm.company.push' });
      }
    }
  }
  return out;
}
