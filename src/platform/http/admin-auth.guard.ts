import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Env } from '../config';
import { clientKey } from './client-address';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Methods a read-only key may use: no admin GET changes state (a rule for every admin controller). */
const READ_METHODS = new Set(['GET', 'HEAD']);

/** What the key of an authorised admin request may do: every route, or GET and HEAD ones only. */
export type AdminAccess = 'full' | 'read-only';

/** Set by the guard on each request it lets through (a WeakMap: nothing is added to the request). */
const accessOf = new WeakMap<object, AdminAccess>();

/** The access of a request the guard let through (undefined on a route without the guard). */
export function adminAccess(request: FastifyRequest): AdminAccess | undefined {
  return accessOf.get(request);
}

/** Failed attempts are counted per client over this window (seconds). */
const FAILURE_WINDOW_SECONDS = 60;

/**
 * One limiter per application, whichever module's controller the guard instance serves: Nest makes
 * a guard instance per module, and the failures of one client must add up across all of them.
 * Keyed by the application's (global) ConfigService, so two apps in one process count apart.
 */
const limiters = new WeakMap<object, RateLimiterMemory>();

function limiterFor(config: ConfigService<Env, true>): RateLimiterMemory {
  let limiter = limiters.get(config);
  if (!limiter) {
    limiter = new RateLimiterMemory({
      keyPrefix: 'admin-auth',
      points: config.get('ADMIN_AUTH_MAX_FAILURES', { infer: true }),
      duration: FAILURE_WINDOW_SECONDS,
      blockDuration: config.get('ADMIN_AUTH_BLOCK_SECONDS', { infer: true }),
    });
    limiters.set(config, limiter);
  }
  return limiter;
}

/**
 * `Authorization: Bearer <key>` on the admin routes.
 *
 * - A key from ADMIN_API_KEYS opens every admin route; one from ADMIN_READ_API_KEYS only GET and
 *   HEAD ones (anything else answers 403 saying a full key is needed). Keys are compared as SHA-256
 *   digests with timingSafeEqual, every configured key each time, so neither a key's content nor its
 *   length, nor which list it is in, leaks through timing.
 * - A client (IP address; IPv6 by /64) that sends more than ADMIN_AUTH_MAX_FAILURES wrong Bearer keys
 *   in a minute is blocked for ADMIN_AUTH_BLOCK_SECONDS: 429 with Retry-After on every admin route,
 *   even with a right key (otherwise the answers would still tell a right guess from a wrong one).
 *   Requests sending no Bearer key guess nothing and are not counted; successes are never slowed.
 *   The count is per instance (memory); behind a proxy that hides client addresses, all clients
 *   count as one.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly logger = new Logger(AdminAuthGuard.name);
  private readonly keys: { digest: Buffer; full: boolean }[];
  private readonly limiter: RateLimiterMemory;

  constructor(config: ConfigService<Env, true>) {
    this.keys = [
      ...config.get('ADMIN_API_KEYS', { infer: true }).map((key) => ({ digest: digest(key), full: true })),
      ...config.get('ADMIN_READ_API_KEYS', { infer: true }).map((key) => ({ digest: digest(key), full: false })),
    ];
    this.limiter = limiterFor(config);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.keys.length === 0) {
      throw new UnauthorizedException(
        'The admin API is disabled: set ADMIN_API_KEYS (full keys) or ADMIN_READ_API_KEYS (read-only keys)',
      );
    }
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const client = clientKey(request.ip);

    const state = await this.limiter.get(client);
    if (state !== null && state.consumedPoints > this.limiter.points) this.tooMany(http.getResponse(), state);

    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('Send the admin key as "Authorization: Bearer <key>"');
    const given = digest(match[1]);
    let known = false;
    let full = false;
    for (const key of this.keys) {
      const equal = timingSafeEqual(key.digest, given);
      known = equal || known;
      full = (equal && key.full) || full;
    }
    if (!known) {
      await this.limiter.consume(client).catch((blocked: unknown) => {
        if (!(blocked instanceof RateLimiterRes)) throw blocked;
        this.logger.warn(
          { client, failures: blocked.consumedPoints, blockedSeconds: Math.ceil(blocked.msBeforeNext / 1000) },
          'Admin API: too many wrong keys from one client, blocked',
        );
        this.tooMany(http.getResponse(), blocked);
      });
      throw new UnauthorizedException('Unknown admin key');
    }
    if (!full && !READ_METHODS.has(request.method)) {
      throw new ForbiddenException(
        'This key is read-only (ADMIN_READ_API_KEYS): this route changes state and needs a full admin key (ADMIN_API_KEYS)',
      );
    }
    accessOf.set(request, full ? 'full' : 'read-only');
    return true;
  }

  private tooMany(reply: FastifyReply, state: RateLimiterRes): never {
    const seconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    void reply.header('retry-after', String(seconds));
    throw new HttpException(
      `Too many wrong admin keys from this client: blocked, retry in ${seconds} s`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
