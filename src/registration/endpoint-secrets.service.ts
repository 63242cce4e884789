import { createSecretKey, type KeyObject } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PgNotifications } from '../database/pg-notifications.service';
import { SecretBox } from '../secrets/secret-box';

/** A secret an endpoint's deliveries may be signed with, opened and ready for HMAC. */
export interface VerificationKey {
  secretId: string;
  key: KeyObject;
  /** Null for the current secret; the end of the grace period for a rotated one. */
  expiresAt: Date | null;
}

interface CacheEntry {
  keys: VerificationKey[] | null;
  until: number;
}

export const ENDPOINT_CHANGED_CHANNEL = 'panora_webhooks_endpoint_changed';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TTL_MS = 60_000;
const UNKNOWN_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

/**
 * The secrets the signature guard checks against, opened once and cached per endpoint: the hot
 * path does not read the database or decrypt per request. Any change to an endpoint (registration,
 * rotation, disable, delete) calls `invalidate`, which also tells the other instances through a
 * PostgreSQL notification; a TTL bounds staleness should a notification be missed.
 */
@Injectable()
export class EndpointSecretsService implements OnModuleInit {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<VerificationKey[] | null>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secretBox: SecretBox,
    private readonly notifications: PgNotifications,
  ) {}

  onModuleInit(): void {
    this.notifications.subscribe(ENDPOINT_CHANGED_CHANNEL, (endpointId) => this.forget(endpointId));
    this.notifications.onReconnect(() => this.cache.clear());
  }

  /**
   * The keys that may have signed a delivery to this endpoint right now; null when the endpoint
   * is unknown, deleted or disabled (answered 404).
   */
  async getVerificationKeys(endpointId: string): Promise<VerificationKey[] | null> {
    if (!UUID.test(endpointId)) return null;
    const now = Date.now();
    const cached = this.cache.get(endpointId);
    if (cached && cached.until > now) return cached.keys;
    let pending = this.loading.get(endpointId);
    if (!pending) {
      pending = this.load(endpointId).finally(() => this.loading.delete(endpointId));
      this.loading.set(endpointId, pending);
    }
    return pending;
  }

  /** Drops the cached secrets of one endpoint (or all), here and on every other instance. */
  async invalidate(endpointId?: string): Promise<void> {
    this.forget(endpointId ?? '');
    await this.dataSource.query('SELECT pg_notify($1, $2)', [ENDPOINT_CHANGED_CHANNEL, endpointId ?? '']);
  }

  private forget(endpointId: string): void {
    if (endpointId) this.cache.delete(endpointId);
    else this.cache.clear();
  }

  private async load(endpointId: string): Promise<VerificationKey[] | null> {
    const rows: { id: string; sealed_secret: string; expires_at: Date | null; active: boolean }[] =
      await this.dataSource.query(
        `SELECT s.id, s.sealed_secret, s.expires_at, e.active
         FROM webhook_endpoints e
         LEFT JOIN webhook_endpoint_secrets s ON s.endpoint_id = e.id AND (s.expires_at IS NULL OR s.expires_at > now())
        WHERE e.id = $1 AND e.deleted_at IS NULL`,
        [endpointId],
      );
    const now = Date.now();
    let entry: CacheEntry;
    if (rows.length === 0 || !rows[0].active) {
      entry = { keys: null, until: now + UNKNOWN_TTL_MS };
    } else {
      const keys = rows
        .filter((row) => row.id !== null)
        .map((row) => ({
          secretId: row.id,
          key: createSecretKey(Buffer.from(this.secretBox.open(row.sealed_secret), 'utf8')),
          expiresAt: row.expires_at,
        }));
      // Cached until the TTL, or until the first grace period ends, whichever comes first.
      const firstExpiry = Math.min(...keys.map((k) => k.expiresAt?.getTime() ?? Infinity));
      entry = { keys, until: Math.min(now + TTL_MS, firstExpiry) };
    }
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(endpointId, entry);
    return entry.keys;
  }
}
