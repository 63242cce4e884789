import { createSecretKey, type KeyObject } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { PgNotifications } from '../platform/database';
import { SecretBox } from '../platform/secrets';

/** A secret an endpoint's deliveries may be signed with, opened and ready for HMAC. */
export interface VerificationKey {
  secretId: string;
  key: KeyObject;
  /** Null for the current secret; the end of the grace period for a rotated one. */
  expiresAt: Date | null;
}

interface CacheEntry {
  keys: VerificationKey[];
  until: number;
}

/** Where the invalidations stood when something was read: global count, then this endpoint's. */
interface Generation {
  all: number;
  endpoint: number;
}

interface Load {
  generation: Generation;
  keys: Promise<VerificationKey[] | null>;
}

export const ENDPOINT_CHANGED_CHANNEL = 'panora_webhooks_endpoint_changed';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;
/** Ids that name no usable endpoint, remembered apart (junk ids never push real secrets out). */
const MAX_UNKNOWN = 10_000;

/**
 * The secrets the signature guard checks against, opened once and cached per endpoint: the hot
 * path does not read the database or decrypt per request. Any change to an endpoint (registration,
 * rotation, disable, delete) calls `invalidate`, which also tells the other instances through a
 * PostgreSQL notification; a TTL bounds staleness should a notification be missed.
 *
 * Every invalidation bumps a generation (one for all endpoints, one per endpoint). A load records
 * the generation it started in: if an invalidation came while it read the database, what it read
 * may predate the change (a disabled endpoint's keys), so it is not cached, and callers arriving
 * after the invalidation start a fresh load instead of sharing it.
 */
@Injectable()
export class EndpointSecretsService implements OnModuleInit {
  /** Endpoints that exist and are active: bounded by the endpoints in the database. */
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * Ids that are unknown, deleted or disabled: answered 404 without a query until the entry
   * expires, the endpoint changes (invalidate), or MAX_UNKNOWN newer ones push it out.
   */
  private readonly unknown = new LRUCache<string, true>({ max: MAX_UNKNOWN, ttl: TTL_MS });
  private readonly loading = new Map<string, Load>();
  private allGeneration = 0;
  /** Per endpoint, since the last invalidation of all (which clears it). */
  private readonly endpointGenerations = new Map<string, number>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secretBox: SecretBox,
    private readonly notifications: PgNotifications,
  ) {}

  onModuleInit(): void {
    this.notifications.subscribe(ENDPOINT_CHANGED_CHANNEL, (endpointId) => this.forget(endpointId));
    // Notifications sent while disconnected are lost: anything cached or being read may be stale.
    this.notifications.onReconnect(() => this.forget(''));
  }

  /**
   * The keys that may have signed a delivery to this endpoint right now; null when the endpoint
   * is unknown, deleted or disabled (answered 404).
   */
  async getVerificationKeys(endpointId: string): Promise<VerificationKey[] | null> {
    if (!UUID.test(endpointId)) return null;
    if (this.unknown.has(endpointId)) return null;
    const cached = this.cache.get(endpointId);
    if (cached && cached.until > Date.now()) return cached.keys;
    const generation = this.generationOf(endpointId);
    const pending = this.loading.get(endpointId);
    if (pending && sameGeneration(pending.generation, generation)) return pending.keys;
    const load: Load = {
      generation,
      keys: this.load(endpointId, generation).finally(() => {
        if (this.loading.get(endpointId) === load) this.loading.delete(endpointId);
      }),
    };
    this.loading.set(endpointId, load);
    return load.keys;
  }

  /** Drops the cached secrets of one endpoint (or all), here and on every other instance. */
  async invalidate(endpointId?: string): Promise<void> {
    this.forget(endpointId ?? '');
    await this.dataSource.query('SELECT pg_notify($1, $2)', [ENDPOINT_CHANGED_CHANNEL, endpointId ?? '']);
  }

  private forget(endpointId: string): void {
    if (endpointId && this.endpointGenerations.size < MAX_ENTRIES) {
      this.cache.delete(endpointId);
      this.unknown.delete(endpointId);
      this.endpointGenerations.set(endpointId, (this.endpointGenerations.get(endpointId) ?? 0) + 1);
    } else {
      // Everything (or, past MAX_ENTRIES counters, more than asked: a bound on memory).
      this.cache.clear();
      this.unknown.clear();
      this.allGeneration++;
      // Every generation recorded before now differs in `all` already: the per-endpoint counts can restart.
      this.endpointGenerations.clear();
    }
  }

  private generationOf(endpointId: string): Generation {
    return { all: this.allGeneration, endpoint: this.endpointGenerations.get(endpointId) ?? 0 };
  }

  private async load(endpointId: string, generation: Generation): Promise<VerificationKey[] | null> {
    const rows: { id: string; sealed_secret: string; expires_at: Date | null; active: boolean }[] =
      await this.dataSource.query(
        `SELECT s.id, s.sealed_secret, s.expires_at, e.active
         FROM webhook_endpoints e
         LEFT JOIN webhook_endpoint_secrets s ON s.endpoint_id = e.id AND (s.expires_at IS NULL OR s.expires_at > now())
        WHERE e.id = $1 AND e.deleted_at IS NULL`,
        [endpointId],
      );
    // Invalidated while reading: the rows may predate the change, so they are not kept.
    const current = sameGeneration(generation, this.generationOf(endpointId));
    if (rows.length === 0 || !rows[0].active) {
      if (current) this.unknown.set(endpointId, true);
      return null;
    }
    const keys = rows
      .filter((row) => row.id !== null)
      .map((row) => ({
        secretId: row.id,
        key: createSecretKey(Buffer.from(this.secretBox.open(row.sealed_secret), 'utf8')),
        expiresAt: row.expires_at,
      }));
    if (!current) return keys;
    // Cached until the TTL, or until the first grace period ends, whichever comes first.
    const firstExpiry = Math.min(...keys.map((k) => k.expiresAt?.getTime() ?? Infinity));
    // Only endpoints that exist get here: the bound is a safety net, not an eviction policy.
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(endpointId, { keys, until: Math.min(Date.now() + TTL_MS, firstExpiry) });
    return keys;
  }
}

function sameGeneration(a: Generation, b: Generation): boolean {
  return a.all === b.all && a.endpoint === b.endpoint;
}
