import { ExecutionContext, HttpException, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { parseEnv } from '../config/env.schema';
import { AdminAuthGuard } from './admin-auth.guard';

const FULL = 'first-key-0123456789';
const FULL_2 = 'second-key-abcdef';
const READ = 'read-only-key-0123456789';

interface Sent {
  authorization?: string;
  method?: string;
  ip?: string;
}

/** A request as the guard sees it, and the headers the guard set on the reply. */
const contextWith = ({ authorization, method = 'GET', ip = '192.0.2.1' }: Sent = {}) => {
  const replyHeaders: Record<string, string> = {};
  const reply = {
    header: (name: string, value: string) => {
      replyHeaders[name.toLowerCase()] = value;
      return reply;
    },
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => ({ headers: { authorization }, method, ip }), getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, replyHeaders };
};

const guardFor = (env: Record<string, string>) => new AdminAuthGuard(new ConfigService(parseEnv(env)) as never);

/** The guard's answer: true, or the status and message of what it threw. */
async function outcome(guard: AdminAuthGuard, sent: Sent = {}) {
  const { context, replyHeaders } = contextWith(sent);
  try {
    return { passed: await guard.canActivate(context), replyHeaders };
  } catch (error) {
    if (!(error instanceof HttpException)) throw error;
    return { status: error.getStatus(), message: error.message, replyHeaders };
  }
}

describe(AdminAuthGuard.name, () => {
  const guard = guardFor({ ADMIN_API_KEYS: `${FULL},${FULL_2}`, ADMIN_READ_API_KEYS: READ });

  it('should let any configured full key through, on any method', async () => {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      expect((await outcome(guard, { authorization: `Bearer ${FULL}`, method })).passed).toBe(true);
      expect((await outcome(guard, { authorization: `bearer ${FULL_2}`, method })).passed).toBe(true);
    }
  });

  it('should let a read-only key read (GET, HEAD)', async () => {
    expect((await outcome(guard, { authorization: `Bearer ${READ}`, method: 'GET' })).passed).toBe(true);
    expect((await outcome(guard, { authorization: `Bearer ${READ}`, method: 'HEAD' })).passed).toBe(true);
  });

  it.each(['POST', 'PATCH', 'PUT', 'DELETE'])(
    'should refuse a read-only key on %s with 403 saying a full admin key is needed',
    async (method) => {
      const result = await outcome(guard, { authorization: `Bearer ${READ}`, method });
      expect(result.status).toBe(403);
      expect(result.message).toMatch(/read-only.*needs a full admin key \(ADMIN_API_KEYS\)/);
    },
  );

  it.each([
    ['no header', undefined],
    ['a wrong key', 'Bearer nope'],
    ['a key differing in the last character', 'Bearer first-key-012345678X'],
    ['a key with a suffix', 'Bearer first-key-0123456789x'],
    ['the key without the scheme', FULL],
    ['basic auth', 'Basic Zmlyc3Qta2V5'],
  ])('should refuse %s with 401', async (_, authorization) => {
    await expect(guard.canActivate(contextWith({ authorization }).context)).rejects.toThrow(UnauthorizedException);
  });

  it('should say the admin API is disabled when no key is configured', async () => {
    await expect(guardFor({}).canActivate(contextWith({ authorization: 'Bearer x' }).context)).rejects.toThrow(
      /ADMIN_API_KEYS.*ADMIN_READ_API_KEYS/,
    );
  });

  it('should not need a full key configured for read-only keys to read', async () => {
    const readOnly = guardFor({ ADMIN_READ_API_KEYS: READ });
    expect((await outcome(readOnly, { authorization: `Bearer ${READ}` })).passed).toBe(true);
    expect((await outcome(readOnly, { authorization: `Bearer ${READ}`, method: 'POST' })).status).toBe(403);
  });

  describe('failed attempts', () => {
    const limited = () =>
      guardFor({ ADMIN_API_KEYS: FULL, ADMIN_AUTH_MAX_FAILURES: '3', ADMIN_AUTH_BLOCK_SECONDS: '600' });

    it('should block a client after ADMIN_AUTH_MAX_FAILURES wrong keys: 429 with Retry-After, even with the right key', async () => {
      const blocked = limited();
      const client = { ip: '198.51.100.7' };
      for (let i = 0; i < 3; i++) {
        expect((await outcome(blocked, { ...client, authorization: `Bearer wrong-${i}` })).status).toBe(401);
      }
      const over = await outcome(blocked, { ...client, authorization: 'Bearer wrong-3' });
      expect(over.status).toBe(429);
      expect(over.message).toMatch(/^Too many wrong admin keys from this client: blocked, retry in \d+ s$/);
      expect(Number(over.replyHeaders['retry-after'])).toBeGreaterThan(0);
      expect(Number(over.replyHeaders['retry-after'])).toBeLessThanOrEqual(600);

      const right = await outcome(blocked, { ...client, authorization: `Bearer ${FULL}` });
      expect(right.status).toBe(429);
      expect(Number(right.replyHeaders['retry-after'])).toBeGreaterThan(0);
      expect((await outcome(blocked, { ...client })).status).toBe(429);

      // Another client is not blocked.
      expect((await outcome(blocked, { ip: '198.51.100.8', authorization: `Bearer ${FULL}` })).passed).toBe(true);
    });

    it('should count one IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 address', async () => {
      const blocked = limited();
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3']) {
        expect((await outcome(blocked, { ip, authorization: 'Bearer wrong' })).status).toBe(401);
      }
      expect((await outcome(blocked, { ip: '2001:db8:1:2::4', authorization: 'Bearer wrong' })).status).toBe(429);
      expect((await outcome(blocked, { ip: '2001:db8:1:2:aaaa::9', authorization: `Bearer ${FULL}` })).status).toBe(
        429,
      );
      expect((await outcome(blocked, { ip: '2001:db8:1:3::1', authorization: `Bearer ${FULL}` })).passed).toBe(true);

      const mapped = limited();
      for (let i = 0; i < 4; i++) await outcome(mapped, { ip: '::ffff:203.0.113.5', authorization: 'Bearer wrong' });
      expect((await outcome(mapped, { ip: '203.0.113.5', authorization: `Bearer ${FULL}` })).status).toBe(429);
      expect((await outcome(mapped, { ip: '::ffff:203.0.113.6', authorization: `Bearer ${FULL}` })).passed).toBe(true);
    });

    it('should not count requests that send no Bearer key, a read-only key on a write route, or successes', async () => {
      const guard = guardFor({
        ADMIN_API_KEYS: FULL,
        ADMIN_READ_API_KEYS: READ,
        ADMIN_AUTH_MAX_FAILURES: '2',
      });
      const client = { ip: '192.0.2.50' };
      for (let i = 0; i < 5; i++) {
        expect((await outcome(guard, { ...client })).status).toBe(401);
        expect((await outcome(guard, { ...client, authorization: 'Basic eDp5' })).status).toBe(401);
        expect((await outcome(guard, { ...client, authorization: `Bearer ${READ}`, method: 'POST' })).status).toBe(403);
        expect((await outcome(guard, { ...client, authorization: `Bearer ${FULL}` })).passed).toBe(true);
      }
      expect((await outcome(guard, { ...client, authorization: 'Bearer wrong' })).status).toBe(401);
    });

    it('should add up failures across guard instances of one application (Nest makes one per module)', async () => {
      const config = new ConfigService(parseEnv({ ADMIN_API_KEYS: FULL, ADMIN_AUTH_MAX_FAILURES: '2' }));
      const events = new AdminAuthGuard(config as never);
      const endpoints = new AdminAuthGuard(config as never);
      const client = { ip: '192.0.2.60', authorization: 'Bearer wrong' };
      expect((await outcome(events, client)).status).toBe(401);
      expect((await outcome(endpoints, client)).status).toBe(401);
      expect((await outcome(events, client)).status).toBe(429);
      expect((await outcome(endpoints, { ...client, authorization: `Bearer ${FULL}` })).status).toBe(429);
    });
  });
});
