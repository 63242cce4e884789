import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { isKnownScope } from '../panora';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why a URL cannot receive Panora's deliveries, or null when it can: it must be an absolute
 * https:// URL; plain http:// is allowed for localhost and 127.0.0.1 (development) only.
 */
export function receivingUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname)) return null;
  if (url.protocol === 'http:') return 'must use https:// (http:// is allowed for localhost and 127.0.0.1 only)';
  return 'must be an https:// URL';
}

export function IsReceivingUrl(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isReceivingUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && receivingUrlProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} ${typeof args?.value === 'string' ? receivingUrlProblem(args.value) : 'must be a string'}`,
      },
    });
}

/** Every item is a scope Panora offers (PANORA_SCOPES); the message lists the unknown ones. */
export function IsKnownScopeList(options?: ValidationOptions): PropertyDecorator {
  const unknown = (value: unknown): string[] =>
    Array.isArray(value)
      ? (value as unknown[]).filter((item): item is string => typeof item === 'string' && !isKnownScope(item))
      : [];
  return (target, propertyName) =>
    registerDecorator({
      name: 'isKnownScopeList',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => unknown(value).length === 0,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} has unknown event types: ${unknown(args?.value)
            .map((s) => s.slice(0, 100))
            .join(', ')}`,
      },
    });
}
