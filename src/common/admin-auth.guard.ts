import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyRequest } from 'fastify';
import type { Env } from '../config/env.schema';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `Authorization: Bearer <key>` where the key is one of ADMIN_API_KEYS. Keys are compared as
 * SHA-256 digests with timingSafeEqual, so neither a key's content nor its length leaks through
 * timing; every configured key is compared, whatever matched.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(config: ConfigService<Env, true>) {
    this.keys = config.get('ADMIN_API_KEYS', { infer: true }).map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.length === 0) {
      throw new UnauthorizedException('The admin API is disabled: set ADMIN_API_KEYS to one or more keys');
    }
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('Send the admin key as "Authorization: Bearer <key>"');
    const given = digest(match[1]);
    let ok = false;
    for (const key of this.keys) ok = timingSafeEqual(key, given) || ok;
    if (!ok) throw new UnauthorizedException('Unknown admin key');
    return true;
  }
}
