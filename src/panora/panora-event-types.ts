/**
 * Panora's event types, as its code really sends them (see shared/panora-facts.md): the scopes
 * its dashboard offers, the `.push` names some `.created` events arrive under, and the
 * `.updated` / `.deleted` names its docs list (a future Panora may send them).
 */
const CRM_CREATED_AND_PULLED = ['contact', 'company', 'deal', 'engagement', 'note', 'task'] as const;
const CRM_PULLED_ONLY = ['stage', 'user'] as const;
const TICKETING_CREATED_AND_PULLED = ['ticket', 'comment', 'attachment'] as const;
const TICKETING_PULLED_ONLY = ['collection', 'account', 'contact', 'tag', 'team', 'user'] as const;
const FILESTORAGE_CREATED_AND_PULLED = ['file', 'folder'] as const;
const FILESTORAGE_PULLED_ONLY = ['group', 'user', 'drive', 'permission', 'sharedlink'] as const;

export const CRM_OBJECTS = [...CRM_CREATED_AND_PULLED, ...CRM_PULLED_ONLY] as const;
export type CrmObject = (typeof CRM_OBJECTS)[number];

type Lifecycle = 'created' | 'updated' | 'deleted' | 'pulled';

/** Every normalised event type a listener can subscribe to. */
export type PanoraEventType =
  | 'connection.created'
  | `crm.${CrmObject}.${Lifecycle}`
  | `ticketing.${(typeof TICKETING_CREATED_AND_PULLED)[number] | (typeof TICKETING_PULLED_ONLY)[number]}.${Lifecycle}`
  | `filestorage.${(typeof FILESTORAGE_CREATED_AND_PULLED)[number] | (typeof FILESTORAGE_PULLED_ONLY)[number]}.${Lifecycle}`
  | `ecommerce.${'order' | 'product' | 'customer' | 'fulfillment'}.${Lifecycle}`;

const LIFECYCLES = ['created', 'updated', 'deleted', 'pulled'] as const;
const objectTypes = <V extends string, O extends string>(vertical: V, objects: readonly O[]) =>
  objects.flatMap((object) => LIFECYCLES.map((lifecycle) => `${vertical}.${object}.${lifecycle}` as const));

/** Every value of PanoraEventType, for listeners that take them all. */
export const ALL_EVENT_TYPES: readonly PanoraEventType[] = [
  'connection.created',
  ...objectTypes('crm', CRM_OBJECTS),
  ...objectTypes('ticketing', [...TICKETING_CREATED_AND_PULLED, ...TICKETING_PULLED_ONLY]),
  ...objectTypes('filestorage', [...FILESTORAGE_CREATED_AND_PULLED, ...FILESTORAGE_PULLED_ONLY]),
  ...objectTypes('ecommerce', ['order', 'product', 'customer', 'fulfillment'] as const),
];

/** The scopes Panora's dashboard offers: what an endpoint can subscribe to. */
export const PANORA_SCOPES: readonly string[] = [
  'connection.created',
  ...CRM_CREATED_AND_PULLED.flatMap((o) => [`crm.${o}.created`, `crm.${o}.pulled`]),
  ...CRM_PULLED_ONLY.map((o) => `crm.${o}.pulled`),
  ...TICKETING_CREATED_AND_PULLED.flatMap((o) => [`ticketing.${o}.created`, `ticketing.${o}.pulled`]),
  ...TICKETING_PULLED_ONLY.map((o) => `ticketing.${o}.pulled`),
  ...FILESTORAGE_CREATED_AND_PULLED.flatMap((o) => [`filestorage.${o}.created`, `filestorage.${o}.pulled`]),
  ...FILESTORAGE_PULLED_ONLY.map((o) => `filestorage.${o}.pulled`),
  'ecommerce.order.created',
  'ecommerce.product.created',
];

/** Delivered as `<x>.push` when the scope subscribed to was `<x>.created`. */
export const PUSH_ALIASED: ReadonlySet<string> = new Set([
  'crm.company',
  'crm.deal',
  'crm.engagement',
  'crm.note',
  'crm.task',
  'ticketing.ticket',
  'ticketing.comment',
  'ticketing.attachment',
  'ecommerce.order',
  'ecommerce.product',
]);

const TYPE_SHAPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$/;

/**
 * Maps a delivered type to the name listeners subscribe to: `crm.company.push` becomes
 * `crm.company.created`; known names stay as they are. Anything else (including types that do not
 * look like Panora's) is returned unchanged: it is stored and marked unhandled, never refused.
 */
export function normaliseEventType(delivered: string): string {
  const trimmed = delivered.trim().toLowerCase();
  if (trimmed.endsWith('.push')) {
    const object = trimmed.slice(0, -'.push'.length);
    if (PUSH_ALIASED.has(object) || TYPE_SHAPE.test(trimmed)) return `${object}.created`;
  }
  return trimmed;
}

export function isKnownScope(scope: string): boolean {
  return PANORA_SCOPES.includes(scope);
}
