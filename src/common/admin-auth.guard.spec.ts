import { ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { parseEnv } from '../config/env.schema';
import { AdminAuthGuard } from './admin-auth.guard';

const contextWith = (authorization?: string) =>
  ({ switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }) }) as unknown as ExecutionContext;

const guardFor = (keys: string) => new AdminAuthGuard(new ConfigService(parseEnv({ ADMIN_API_KEYS: keys })) as never);

describe(AdminAuthGuard.name, () => {
  const guard = guardFor('first-key-0123456789,second-key-abcdef');

  it('should let through any configured key', () => {
    expect(guard.canActivate(contextWith('Bearer first-key-0123456789'))).toBe(true);
    expect(guard.canActivate(contextWith('bearer second-key-abcdef'))).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['a wrong key', 'Bearer nope'],
    ['a key differing in the last character', 'Bearer first-key-012345678X'],
    ['a key with a suffix', 'Bearer first-key-0123456789x'],
    ['the key without the scheme', 'first-key-0123456789'],
    ['basic auth', 'Basic Zmlyc3Qta2V5'],
  ])('should refuse %s with 401', (_, header) => {
    expect(() => guard.canActivate(contextWith(header))).toThrow(UnauthorizedException);
  });

  it('should say the admin API is disabled when no key is configured', () => {
    expect(() => guardFor('').canActivate(contextWith('Bearer x'))).toThrow(/ADMIN_API_KEYS/);
  });
});
