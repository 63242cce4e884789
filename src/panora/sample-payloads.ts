import { randomBytes, randomUUID } from 'node:crypto';
import { PUSH_ALIASED } from './panora-event-types';

/**
 * Realistic payloads for test events, in the shapes Panora's code sends (shared/panora-facts.md):
 * a Connection row for `connection.created`, unified objects for `*.created` (delivered as
 * `*.push` where Panora does so), arrays of raw database rows for `*.pulled`. Every id is fresh,
 * so each test event creates new rows downstream.
 */

export interface SampleEvent {
  /** The type as Panora delivers it (e.g. `crm.company.push` for the scope `crm.company.created`). */
  deliveredType: string;
  payload: unknown;
}

const shortId = () => randomUUID().slice(0, 8);
/** Panora stores OAuth tokens encrypted (`iv:ciphertext` hex); the receiver drops them. */
const encryptedBlob = () => `${randomBytes(16).toString('hex')}:${randomBytes(48).toString('hex')}`;

function timestamps(now: Date) {
  const iso = now.toISOString();
  return { created_at: iso, modified_at: iso };
}

/** A Connection row, as `connection.created` carries it. */
function connection(now: Date) {
  return {
    id_connection: randomUUID(),
    status: 'valid',
    provider_slug: 'hubspot',
    vertical: 'crm',
    account_url: 'https://api.hubapi.com',
    token_type: 'oauth2',
    access_token: encryptedBlob(),
    refresh_token: encryptedBlob(),
    expiration_timestamp: new Date(now.getTime() + 30 * 60_000).toISOString(),
    created_at: now.toISOString(),
    connection_token: randomUUID(),
    id_project: randomUUID(),
    id_linked_user: randomUUID(),
  };
}

const email = (address: string) => [{ email_address: address, email_address_type: 'WORK', owner_type: 'CONTACT' }];
const phone = [{ phone_number: '+14155550123', phone_type: 'WORK', owner_type: 'CONTACT' }];

/** Unified objects (`*.created`). */
const UNIFIED: Record<string, (now: Date) => Record<string, unknown>> = {
  'crm.contact': () => ({
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_addresses: email(`ada.${shortId()}@example.com`),
    phone_numbers: phone,
    addresses: [
      {
        street_1: '12 Analytical Row',
        city: 'London',
        postal_code: 'N1 9GU',
        country: 'GB',
        address_type: 'WORK',
        owner_type: 'CONTACT',
      },
    ],
    user_id: randomUUID(),
  }),
  'crm.company': () => ({
    name: `Analytical Engines ${shortId()}`,
    industry: 'COMPUTER_SOFTWARE',
    number_of_employees: 42,
    user_id: randomUUID(),
    email_addresses: email('hello@analytical-engines.example'),
    phone_numbers: phone,
    addresses: [],
  }),
  'crm.deal': () => ({
    name: 'Analytical Engine, 3 units',
    description: 'Renewal',
    amount: 12000,
    user_id: randomUUID(),
    stage_id: randomUUID(),
    company_id: randomUUID(),
  }),
  'crm.engagement': (now) => ({
    content: 'Intro call',
    direction: 'OUTBOUND',
    subject: 'Intro call',
    start_at: now.toISOString(),
    end_time: new Date(now.getTime() + 30 * 60_000).toISOString(),
    type: 'CALL',
    user_id: randomUUID(),
    company_id: randomUUID(),
    contacts: [randomUUID()],
  }),
  'crm.note': () => ({
    content: 'Asked for a quote for three units.',
    user_id: randomUUID(),
    company_id: randomUUID(),
    contact_id: randomUUID(),
    deal_id: null,
  }),
  'crm.task': (now) => ({
    subject: 'Send the quote',
    content: 'Three units, renewal pricing',
    status: 'PENDING',
    due_date: new Date(now.getTime() + 3 * 86_400_000).toISOString(),
    finished_date: null,
    user_id: randomUUID(),
    company_id: randomUUID(),
    deal_id: randomUUID(),
  }),
  'ticketing.ticket': () => ({
    name: 'Cannot export invoices',
    status: 'OPEN',
    description: 'The export button does nothing.',
    due_date: null,
    type: 'BUG',
    parent_ticket: null,
    collections: [],
    tags: ['billing'],
    completed_at: null,
    priority: 'HIGH',
    assigned_to: [randomUUID()],
    comment: null,
    account_id: randomUUID(),
    contact_id: randomUUID(),
  }),
  'ticketing.comment': () => ({
    body: 'Reproduced on Firefox too.',
    html_body: '<p>Reproduced on Firefox too.</p>',
    is_private: false,
    creator_type: 'USER',
    ticket_id: randomUUID(),
    contact_id: null,
    user_id: randomUUID(),
    attachments: [],
  }),
  'ticketing.attachment': () => ({
    file_name: 'screenshot.png',
    file_url: 'https://files.example.com/screenshot.png',
    uploader: randomUUID(),
    ticket_id: randomUUID(),
    comment_id: null,
  }),
  'filestorage.file': () => ({
    name: 'Q3 report.pdf',
    file_url: 'https://drive.example.com/q3-report.pdf',
    mime_type: 'application/pdf',
    size: '482133',
    folder_id: randomUUID(),
    drive_id: randomUUID(),
    permission: null,
    shared_link: null,
  }),
  'filestorage.folder': () => ({
    name: 'Reports',
    size: '0',
    folder_url: 'https://drive.example.com/reports',
    description: 'Quarterly reports',
    drive_id: randomUUID(),
    parent_folder_id: null,
    shared_link: null,
    permission: null,
  }),
  'ecommerce.order': () => ({
    order_status: 'PAID',
    order_number: `#${1000 + Math.floor(Math.random() * 9000)}`,
    payment_status: 'SUCCESS',
    currency: 'USD',
    total_price: 12999,
    total_discount: 0,
    total_shipping: 999,
    total_tax: 1040,
    fulfillment_status: 'PENDING',
    customer_id: randomUUID(),
    items: [],
  }),
  'ecommerce.product': () => ({
    product_url: 'https://shop.example.com/products/analytical-engine',
    product_type: 'HARDWARE',
    product_status: 'ACTIVE',
    images_urls: [],
    description: 'A general-purpose mechanical computer',
    vendor: 'Babbage & Co',
    variants: [{ title: 'Standard', price: 12999, sku: 'AE-1', options: null, weight: 5000, inventory_quantity: 3 }],
    tags: [],
  }),
};

/** The id column of a raw row of Panora's database, e.g. `id_crm_contact`, `id_crm_deals_stage`. */
function rawIdColumn(vertical: string, object: string): string {
  if (vertical === 'crm' && object === 'stage') return 'id_crm_deals_stage';
  return `id_${vertical === 'filestorage' ? 'fs' : vertical === 'ticketing' ? 'tcg' : vertical}_${object}`;
}

/** Two raw rows of Panora's database (`*.pulled`): BigInt values as strings, no unified shape. */
function pulledRows(vertical: string, object: string, now: Date): Record<string, unknown>[] {
  const idConnection = randomUUID();
  return [0, 1].map((i) => {
    const unified = UNIFIED[`${vertical}.${object}`]?.(now) ?? { name: `${object} ${i + 1}` };
    // Raw rows keep scalar columns; a contact's emails live in another Panora table.
    const scalars = Object.fromEntries(
      Object.entries(unified).filter(([, value]) => value === null || typeof value !== 'object'),
    );
    return {
      [rawIdColumn(vertical, object)]: randomUUID(),
      ...scalars,
      ...(typeof scalars.number_of_employees === 'number' ? { number_of_employees: '42' } : {}),
      remote_id: `${shortId()}${i}`,
      remote_platform: 'hubspot',
      id_connection: idConnection,
      ...timestamps(now),
    };
  });
}

/**
 * A sample delivery for a scope Panora offers (`connection.created`, `crm.company.created`,
 * `crm.contact.pulled`, …); null for anything else.
 */
export function sampleEvent(scope: string, now = new Date()): SampleEvent | null {
  if (scope === 'connection.created') return { deliveredType: scope, payload: connection(now) };
  const match = /^([a-z]+)\.([a-z]+)\.(created|pulled)$/.exec(scope);
  if (!match) return null;
  const [, vertical, object, lifecycle] = match;
  if (lifecycle === 'pulled') return { deliveredType: scope, payload: pulledRows(vertical, object, now) };
  const build = UNIFIED[`${vertical}.${object}`];
  if (!build) return null;
  const payload = {
    id: randomUUID(),
    ...build(now),
    field_mappings: {},
    remote_id: shortId(),
    remote_data: null,
    ...timestamps(now),
  };
  const base = `${vertical}.${object}`;
  return { deliveredType: PUSH_ALIASED.has(base) ? `${base}.push` : scope, payload };
}
