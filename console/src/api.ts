/**
 * Calls to the admin API. The key lives in this tab's sessionStorage only (gone when the tab
 * closes; never a cookie, never in a URL) and travels in the Authorization header of /admin/*
 * requests, never anywhere else.
 */
const STORAGE_KEY = 'panora-webhooks.console.admin-key';
export const SIGNED_OUT = 'console:signed-out';

export const session = {
  key: (): string | null => sessionStorage.getItem(STORAGE_KEY),
  signIn: (key: string): void => sessionStorage.setItem(STORAGE_KEY, key),
  signOut: (): void => {
    sessionStorage.removeItem(STORAGE_KEY);
    window.dispatchEvent(new Event(SIGNED_OUT));
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

/** `?a=1&b=2` of the set values (empty when none). */
export function query(params: Query): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** One admin API call; the answer's JSON, or an ApiError with the API's message. */
export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const key = session.key();
  if (!key) throw new ApiError(401, 'Not signed in');
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const message = (json as { message?: string | string[] } | null)?.message;
    if (response.status === 401) session.signOut();
    throw new ApiError(
      response.status,
      Array.isArray(message) ? message.join('; ') : (message ?? `${response.status} ${response.statusText}`),
    );
  }
  return json as T;
}

/** The message of whatever was thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

// The API's shapes, as far as the console reads them.
export type EventStatus = 'received' | 'processing' | 'processed' | 'failed' | 'dead';
export const EVENT_STATUSES: EventStatus[] = ['received', 'processing', 'processed', 'failed', 'dead'];

export interface EventSummary {
  id: string;
  endpointId: string;
  idEvent: string;
  type: string;
  normalizedType: string;
  status: EventStatus;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
  nextAttemptAt: string | null;
  lastError: string | null;
}
export interface EventDetail extends EventSummary {
  payload: unknown;
  listeners: { listener: string; status: string; attempts: number; lastError: string | null; updatedAt: string }[];
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface Stats {
  generatedAt: string;
  minutes: string[];
  received: number[];
  processed: number[];
  failed: number[];
  dead: number[];
  backlog: { received: number; processing: number; failed: number; dead: number; oldestPendingSeconds: number | null };
  broker: { status: 'up' | 'down' | 'disabled'; since: string; error?: string };
  outboxPending: number | null;
}
export interface DeadGroup {
  type: string;
  error: string;
  count: number;
  sampleId: string;
  sampleError: string | null;
  newestReceivedAt: string;
}
export interface Secret {
  id: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
}
export interface Endpoint {
  id: string;
  panoraEndpointId: string | null;
  url: string | null;
  receiveUrl: string;
  description: string | null;
  scope: string[];
  active: boolean;
  createdAt: string;
  secrets: Secret[];
  warnings?: string[];
}
export interface Connection {
  idConnection: string;
  providerSlug: string | null;
  vertical: string | null;
  status: string | null;
  idLinkedUser: string | null;
  linkedUserOriginId: string | null;
  hasToken: boolean;
  tokenHint: string | null;
  updatedAt: string;
}
