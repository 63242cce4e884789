/** Payload shapes as Panora's code sends them (shared/panora-facts.md). Fields may be missing. */

export interface PanoraConnection {
  id_connection: string;
  status?: string;
  provider_slug?: string;
  vertical?: string;
  account_url?: string | null;
  token_type?: string;
  expiration_timestamp?: string | null;
  created_at?: string;
  /** A credential: sealed at rest, never logged or returned in lists. */
  connection_token?: string;
  id_project?: string;
  id_linked_user?: string;
  [field: string]: unknown;
}

export interface PanoraEmail {
  email_address?: string;
  email_address_type?: string;
}

export interface PanoraPhone {
  phone_number?: string;
  phone_type?: string;
}

/** Unified CRM object (`crm.<kind>.created` / `.push` / `.updated`). */
export interface PanoraCrmObject {
  id?: string;
  remote_id?: string | null;
  name?: string;
  first_name?: string;
  last_name?: string;
  email_addresses?: PanoraEmail[];
  phone_numbers?: PanoraPhone[];
  created_at?: string;
  modified_at?: string;
  [field: string]: unknown;
}

/** `*.pulled`: raw rows of Panora's database, not the unified shape. */
export type PanoraPulledRows = Record<string, unknown>[];

export interface PanoraPayloads {
  'connection.created': PanoraConnection;
}

/** The payload type of an event type: known ones are typed, the rest `unknown`. */
export type PanoraPayload<K extends string> = K extends keyof PanoraPayloads
  ? PanoraPayloads[K]
  : K extends `${string}.pulled`
    ? PanoraPulledRows
    : K extends `crm.${string}`
      ? PanoraCrmObject
      : unknown;
