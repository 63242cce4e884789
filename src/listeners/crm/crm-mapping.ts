import { CRM_OBJECTS, type CrmObject } from '../../panora';
import { PermanentEventError } from '../../dispatch';
import { redactObject } from '../../platform/secrets';

/** The CRM object kinds Panora sends (`crm.<kind>.*`), one projection each. */
export const CRM_KINDS: readonly CrmObject[] = CRM_OBJECTS;
export type CrmKind = CrmObject;

export function isCrmKind(value: unknown): value is CrmKind {
  return typeof value === 'string' && (CRM_KINDS as readonly string[]).includes(value);
}

/**
 * How the stored object looks: `unified` is Panora's unified model (`.created` / `.push` /
 * `.updated`), `raw` a row of Panora's own database (`.pulled`).
 */
export type CrmShape = 'unified' | 'raw';

/** What the projection stores for one object, before it meets the stored row. */
export interface CrmProjectionInput {
  /** Panora's id (`id`, or `id_crm_<kind>` in raw rows). */
  id: string;
  remoteId: string | null;
  /** Panora's connection (`id_connection`), known from raw rows only. */
  connectionId: string | null;
  name: string | null;
  email: string | null;
  domain: string | null;
  /** ISO 8601, or null when the object carries no usable `modified_at`. */
  modifiedAt: string | null;
  shape: CrmShape;
  /** The whole object as received, every credential in it (at any depth) redacted. */
  data: Record<string, unknown>;
}

/** The id column of each kind's table in Panora's database (raw rows of `*.pulled`). */
export const RAW_ID_COLUMNS: Readonly<Record<CrmKind, string>> = {
  contact: 'id_crm_contact',
  company: 'id_crm_company',
  deal: 'id_crm_deal',
  engagement: 'id_crm_engagement',
  note: 'id_crm_note',
  task: 'id_crm_task',
  stage: 'id_crm_deals_stage',
  user: 'id_crm_user',
};

const MAX_ID_LENGTH = 255;
const MAX_TEXT_LENGTH = 500;
const MAX_NAME_FROM_CONTENT = 200;

/**
 * Thrown for an object the projection cannot store at all (e.g. no id): permanent, so the event is
 * dead at once with this reason instead of being retried.
 */
export class CrmPayloadError extends PermanentEventError {
  override name = 'CrmPayloadError';
}

/**
 * Maps a unified object (`crm.<kind>.created` / `.push` / `.updated` / `.deleted`).
 * @throws CrmPayloadError when it is not an object or has no usable id.
 */
export function mapUnifiedObject(kind: CrmKind, payload: unknown): CrmProjectionInput {
  if (!isRecord(payload)) {
    throw new CrmPayloadError(`crm.${kind} payload is ${describeType(payload)}, expected one object`);
  }
  const id = toId(payload.id) ?? toId(payload[RAW_ID_COLUMNS[kind]]);
  if (!id) throw new CrmPayloadError(`crm.${kind} payload has no usable id`);
  return project(kind, id, payload, 'unified');
}

/**
 * Maps one raw row of a `crm.<kind>.pulled` batch, whatever columns it has. Null when the row
 * is not an object or has no usable id (the caller counts and skips it).
 */
export function mapRawRow(kind: CrmKind, row: unknown): CrmProjectionInput | null {
  if (!isRecord(row)) return null;
  const id = toId(row[RAW_ID_COLUMNS[kind]]) ?? toId(row.id);
  return id ? project(kind, id, row, 'raw') : null;
}

function project(kind: CrmKind, id: string, data: Record<string, unknown>, shape: CrmShape): CrmProjectionInput {
  const email = primaryEmail(data);
  return {
    id,
    remoteId: toText(data.remote_id),
    connectionId: toText(data.id_connection),
    name: nameOf(kind, data),
    email,
    domain: kind === 'company' ? companyDomain(data, email) : null,
    modifiedAt: toIsoTimestamp(data.modified_at),
    shape,
    // A CRM object may carry a token or password somewhere (remote_data, field mappings): it is
    // not stored, returned or published.
    data: redactObject(data),
  };
}

/**
 * When a `.deleted` object says it was deleted: the latest of its deletion time (`deleted_at`,
 * `remote_deleted_at`) and its `modified_at`, ISO 8601; null when it carries none. These fields
 * are inside `data`, so covered by Panora's signature; the event's `type` is not.
 */
export function deletionTime(payload: Record<string, unknown>): string | null {
  const times = [payload.deleted_at, payload.remote_deleted_at, payload.modified_at]
    .map(toIsoTimestamp)
    .filter((time) => time !== null);
  return times.length === 0 ? null : times.reduce((latest, time) => (time > latest ? time : latest));
}

function nameOf(kind: CrmKind, o: Record<string, unknown>): string | null {
  switch (kind) {
    case 'contact': {
      const full = [toText(o.first_name), toText(o.last_name)].filter((part) => part !== null).join(' ');
      return clip(full || toText(o.name));
    }
    case 'stage':
      return clip(toText(o.stage_name) ?? toText(o.name));
    case 'engagement':
    case 'task':
      return clip(toText(o.subject) ?? toText(o.name) ?? toText(o.content), MAX_NAME_FROM_CONTENT);
    case 'note':
      return clip(toText(o.title) ?? toText(o.content), MAX_NAME_FROM_CONTENT);
    case 'company':
    case 'deal':
    case 'user':
      return clip(toText(o.name));
  }
}

/** `email`, else the PRIMARY (or first) entry of `email_addresses`. */
export function primaryEmail(o: Record<string, unknown>): string | null {
  const direct = toText(o.email) ?? toText(o.email_address);
  if (direct) return clip(direct);
  if (!Array.isArray(o.email_addresses)) return null;
  const entries = o.email_addresses.filter(isRecord).filter((e) => toText(e.email_address) !== null);
  const primary = entries.find((e) => toText(e.email_address_type)?.toUpperCase() === 'PRIMARY') ?? entries[0];
  return primary ? clip(toText(primary.email_address)) : null;
}

/**
 * A company's domain: `domain`, `website` (or the same in `remote_data`, e.g. HubSpot's
 * `properties.domain`), else the domain of its email address. Lowercase host, no `www.`.
 */
export function companyDomain(o: Record<string, unknown>, email: string | null): string | null {
  const remote = isRecord(o.remote_data) ? o.remote_data : {};
  const properties = isRecord(remote.properties) ? remote.properties : {};
  for (const candidate of [
    o.domain,
    o.website,
    o.website_url,
    remote.domain,
    remote.website,
    properties.domain,
    properties.website,
  ]) {
    const host = toHost(candidate);
    if (host) return host;
  }
  const at = email?.lastIndexOf('@') ?? -1;
  return at > 0 ? toHost(email!.slice(at + 1)) : null;
}

function toHost(value: unknown): string | null {
  const text = toText(value);
  if (!text) return null;
  try {
    const host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`).hostname.toLowerCase();
    const bare = host.startsWith('www.') ? host.slice(4) : host;
    return bare.includes('.') ? clip(bare) : null;
  } catch {
    return null;
  }
}

/** Accepts ISO strings, Postgres-style timestamps and epoch milliseconds; anything else is null. */
export function toIsoTimestamp(value: unknown): string | null {
  let date: Date;
  if (typeof value === 'number') date = new Date(value);
  else if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    date = new Date(/^\d+$/.test(text) ? Number(text) : text);
  } else return null;
  const time = date.getTime();
  // Outside what timestamptz and a JS Date both hold comfortably.
  if (Number.isNaN(time) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) return null;
  return date.toISOString();
}

function toId(value: unknown): string | null {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : toText(value);
  return text && text.length <= MAX_ID_LENGTH ? text : null;
}

function toText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text === '' ? null : text;
}

function clip(value: string | null, max = MAX_TEXT_LENGTH): string | null {
  if (value === null) return null;
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
