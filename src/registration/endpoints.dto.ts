import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  registerDecorator,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';
import { isKnownScope } from '../webhooks/panora-event-types';

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

function IsReceivingUrl(options?: ValidationOptions): PropertyDecorator {
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
function IsKnownScopeList(options?: ValidationOptions): PropertyDecorator {
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

export class CreateEndpointDto {
  /** Event types to subscribe to, e.g. `connection.created`, `crm.contact.created`. */
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsKnownScopeList()
  scope!: string[];

  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  /** Where Panora should deliver; defaults to `${PUBLIC_BASE_URL}/webhooks/panora/<id>`. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsReceivingUrl()
  url?: string;
}

/** An endpoint made in Panora's dashboard, with the secret Panora showed there. */
export class ImportEndpointDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  id_webhook_endpoint?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsReceivingUrl()
  url?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsKnownScopeList()
  scope?: string[];

  @IsString()
  @MinLength(8)
  @MaxLength(512)
  secret!: string;
}

export class UpdateEndpointDto {
  @IsBoolean()
  active!: boolean;
}

/** A secret as the admin API shows it: never the value, only its last 4 characters. */
export interface SecretView {
  id: string;
  hint: string;
  panoraEndpointId: string | null;
  createdAt: Date;
  /** Null for the current secret; the end of its grace period for a replaced one. */
  expiresAt: Date | null;
}

export interface EndpointView {
  id: string;
  panoraEndpointId: string | null;
  /** The URL registered at Panora. */
  url: string | null;
  /** Where this service receives the endpoint's deliveries: the URL to give Panora. */
  receiveUrl: string;
  description: string | null;
  scope: string[];
  active: boolean;
  idProject: string | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  secrets: SecretView[];
}

export interface EndpointResult extends EndpointView {
  /** E.g. scopes overlapping another active endpoint (Panora delivers to only one of them). */
  warnings: string[];
}

export interface RotationResult extends EndpointResult {
  rotation: {
    previousPanoraEndpointId: string;
    newPanoraEndpointId: string;
    /** Until then, deliveries signed with the previous secret still verify. */
    previousSecretExpiresAt: Date;
    /** False when Panora refused to disable the previous endpoint: disable it by hand. */
    previousDisabledAtPanora: boolean;
    error?: string;
  };
}

export interface SyncResult {
  /** Local endpoints whose `active` or scope were updated from Panora. */
  updated: { id: string; panoraEndpointId: string; active?: boolean; scope?: string[] }[];
  /** Local endpoints whose Panora id Panora does not list (deleted in its dashboard?). */
  onlyLocal: { id: string; panoraEndpointId: string; url: string | null }[];
  /** Local endpoints never registered at Panora (imported without an id, or a registration cut short). */
  notRegistered: { id: string; url: string | null }[];
  /** Endpoints Panora has that this service does not know: import them to receive their events. */
  onlyAtPanora: {
    panoraEndpointId: string;
    url: string | null;
    scope: string[];
    active: boolean | null;
    description: string | null;
  }[];
  warnings: string[];
}
