import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyRequest } from 'fastify';
import type { Env } from '../config';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set, compared
 * as SHA-256 digests in constant time (like the admin keys); the admin keys do not open it: a
 * scraper's token should not be an admin key. Unset, it is open: the configuration allows that in
 * production only with METRICS_PUBLIC=true (see env.schema.ts), and MetricsModule logs at start
 * which applies.
 */
@Injectable()
export class MetricsAuthGuard implements CanActivate {
  private readonly token?: Buffer;

  constructor(config: ConfigService<Env, true>) {
    const token = config.get('METRICS_TOKEN', { infer: true });
    this.token = token === undefined ? undefined : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.token) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"');
    if (!timingSafeEqual(this.token, digest(match[1]))) throw new UnauthorizedException('Unknown metrics token');
    return true;
  }
}
