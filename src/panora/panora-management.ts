import { z } from 'zod';
import type { Answer, PanoraHttp } from './panora-http';

/** Panora's management calls: webhook endpoints, connections, linked users (shared/panora-facts.md). */

const text = z.string().nullish();

/** A webhook endpoint as Panora returns it. Only `id_webhook_endpoint` is relied on everywhere. */
const webhookSchema = z.object({
  id_webhook_endpoint: z.string().min(1),
  endpoint_description: text,
  url: text,
  secret: text,
  active: z.boolean().nullish(),
  scope: z.array(z.string()).nullish(),
  id_project: text,
  created_at: z.union([z.string(), z.number()]).nullish(),
  last_update: z.union([z.string(), z.number()]).nullish(),
});
const createdWebhookSchema = webhookSchema.extend({ secret: z.string().min(1) });
const connectionSchema = z.looseObject({ id_connection: z.string().min(1) });
const linkedUserSchema = z.looseObject({
  id_linked_user: z.string().min(1),
  linked_user_origin_id: z.string().nullish(),
});

export type PanoraWebhook = z.infer<typeof webhookSchema>;
export type PanoraCreatedWebhook = z.infer<typeof createdWebhookSchema>;
/** A connection row; it carries `connection_token`, a credential: never log or store it in clear. */
export type PanoraConnectionRow = z.infer<typeof connectionSchema>;
export type PanoraLinkedUser = z.infer<typeof linkedUserSchema>;

export interface CreateWebhookInput {
  url: string;
  description?: string | null;
  scope: string[];
}

export async function createWebhook(http: PanoraHttp, input: CreateWebhookInput): Promise<PanoraCreatedWebhook> {
  const body: Record<string, unknown> = { url: input.url, scope: input.scope };
  if (input.description) body.description = input.description;
  const answer = await http.request('POST', '/webhooks', { body, idempotent: false });
  return http.parse('POST /webhooks', createdWebhookSchema, answer);
}

export async function listWebhooks(http: PanoraHttp): Promise<PanoraWebhook[]> {
  const answer = await http.request('GET', '/webhooks', { idempotent: true });
  return http.parse('GET /webhooks', z.array(webhookSchema), answer);
}

export async function updateWebhookStatus(
  http: PanoraHttp,
  id: string,
  active: boolean,
): Promise<PanoraWebhook | null> {
  const path = `/webhooks/${encodeURIComponent(id)}`;
  return optionalRow(await http.request('PUT', path, { body: { active }, idempotent: true }));
}

export async function deleteWebhook(http: PanoraHttp, id: string): Promise<PanoraWebhook | null> {
  const path = `/webhooks/${encodeURIComponent(id)}`;
  return optionalRow(await http.request('DELETE', path, { idempotent: true }));
}

export async function listConnections(http: PanoraHttp): Promise<PanoraConnectionRow[]> {
  const answer = await http.request('GET', '/connections', { idempotent: true });
  return http.parse('GET /connections', z.array(connectionSchema), answer);
}

export async function getLinkedUser(http: PanoraHttp, id: string): Promise<PanoraLinkedUser> {
  const path = `/linked_users/${encodeURIComponent(id)}`;
  return http.parse(`GET ${path}`, linkedUserSchema, await http.request('GET', path, { idempotent: true }));
}

function optionalRow(answer: Answer): PanoraWebhook | null {
  const parsed = webhookSchema.safeParse(answer.body);
  return parsed.success ? parsed.data : null;
}
