// Signed Panora deliveries and the autocannon load that sends them.
import { createHmac, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

export const TYPE = 'crm.contact.created';

/** A unified contact of about 1.8 KB, like Panora's crm.contact.created payload. */
export function contact(i) {
  return {
    id: randomUUID(),
    first_name: `First${i}`,
    last_name: `Last${i}`,
    email_addresses: [
      { email_address: `person${i}@example.com`, email_address_type: 'WORK' },
      { email_address: `home${i}@example.org`, email_address_type: 'PERSONAL' },
    ],
    phone_numbers: [{ phone_number: '+33612345678', phone_type: 'MOBILE' }],
    addresses: [
      {
        street_1: '10 rue de Rivoli',
        city: 'Paris',
        state: 'IDF',
        postal_code: '75001',
        country: 'FR',
        address_type: 'WORK',
      },
    ],
    user_id: randomUUID(),
    field_mappings: { lead_source: 'webinar', tier: 'gold' },
    remote_id: String(100000 + i),
    created_at: '2026-11-01T10:00:00.000Z',
    modified_at: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    remote_data: { properties: { hs_object_id: String(100000 + i), notes: 'x'.repeat(900) } },
  };
}

/** About 1 MB: a crm.contact.pulled batch of 1,000 rows. */
export function pulledBatch() {
  return Array.from({ length: 1000 }, (_, i) => ({
    id_crm_contact: randomUUID(),
    first_name: `n${i}`,
    remote_id: String(i),
    notes: 'y'.repeat(900),
  }));
}

const NONCE = '@@nonce@@';
let nonces = 0;

/**
 * Deliveries built from pre-serialised payloads. Each request gets its own id_event and a nonce
 * in its data (a delivery whose signed text repeats is a replay, answered `duplicate` and not
 * stored, so reusing a payload would measure the duplicate path): the client only joins strings
 * and signs (one HMAC of ~2 KB, a few µs), never serialises under load.
 */
export function deliveryPool(secret, count = 1000, make = contact, type = TYPE) {
  return Array.from({ length: count }, (_, i) => {
    const made = make(i);
    if (Array.isArray(made)) made[0] = { ...made[0], bench_nonce: NONCE };
    else made.bench_nonce = NONCE;
    // What Panora signs and sends: JSON.stringify of the data string.
    const [left, right] = JSON.stringify(JSON.stringify(made)).split(NONCE);
    return { secret, left, right, type };
  });
}

/** One delivery of the pool, with a fresh nonce: `{idEvent}` is filled in by the caller. */
export function signedDelivery(d) {
  const signed = d.left + (nonces++).toString(36) + d.right;
  const signature = createHmac('sha256', d.secret).update(signed).digest('hex');
  return { prefix: '{"id_event":"', suffix: `","data":${signed},"type":"${d.type}"}`, signature };
}

/**
 * Sends deliveries for `duration` seconds, as fast as the server answers or at `rate` per second
 * (autocannon's overallRate, latencies corrected for coordinated omission). `acked` collects the
 * id_event of every 2xx.
 */
export async function load({ url, paths, pool, connections, duration, rate, acked }) {
  let n = 0;
  const requests = [
    {
      method: 'POST',
      // One request in flight per connection: the context remembers which id_event it carries.
      setupRequest: (req, context) => {
        const d = signedDelivery(pool[n % pool.length]);
        const path = paths[n % paths.length];
        n++;
        context.idEvent = randomUUID();
        req.path = path;
        req.headers = { 'content-type': 'application/json', 'panora-signature': d.signature };
        req.body = d.prefix + context.idEvent + d.suffix;
        return req;
      },
      onResponse: (status, _body, context) => {
        if (acked && status >= 200 && status < 300) acked.push(context.idEvent);
      },
    },
  ];
  const options = { url, connections, duration, requests, timeout: 30 };
  if (rate) options.overallRate = rate;
  const result = await autocannon(options);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
