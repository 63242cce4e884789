import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
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

const SCOPE_DOC: ApiPropertyOptions = {
  type: [String],
  description: "Event types to subscribe to: scopes Panora's dashboard offers",
  example: ['connection.created', 'crm.contact.created'],
  maxItems: 200,
};
const URL_DOC: ApiPropertyOptions = {
  description:
    'Where Panora delivers: https://, or http:// for localhost and 127.0.0.1. Defaults to ' +
    '`${PUBLIC_BASE_URL}/webhooks/panora/<id>`',
  example: 'https://hooks.example.com/webhooks/panora/5b1c0f4e-…',
  maxLength: 2048,
};

export class CreateEndpointDto {
  /** Event types to subscribe to, e.g. `connection.created`, `crm.contact.created`. */
  @ApiProperty({ ...SCOPE_DOC, minItems: 1 })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsKnownScopeList()
  scope!: string[];

  @ApiPropertyOptional({ maxLength: 500, example: 'Production CRM sync' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  /** Where Panora should deliver; defaults to `${PUBLIC_BASE_URL}/webhooks/panora/<id>`. */
  @ApiPropertyOptional(URL_DOC)
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsReceivingUrl()
  url?: string;
}

/** An endpoint made in Panora's dashboard, with the secret Panora showed there. */
export class ImportEndpointDto {
  @ApiPropertyOptional({
    description: "Panora's id of the endpoint (lets rotate, disable and delete reach Panora)",
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  id_webhook_endpoint?: string;

  @ApiPropertyOptional({ ...URL_DOC, description: 'The URL registered at Panora, when it is not the receiveUrl' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsReceivingUrl()
  url?: string;

  @ApiPropertyOptional(SCOPE_DOC)
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsKnownScopeList()
  scope?: string[];

  @ApiProperty({
    description: 'The signing secret Panora showed for the endpoint (stored sealed, never returned)',
    minLength: 8,
    maxLength: 512,
    example: '801f9ede-c698-4e66-a7fc-48d19eebaa4f',
  })
  @IsString()
  @MinLength(8)
  @MaxLength(512)
  secret!: string;
}

export class UpdateEndpointDto {
  @ApiProperty({ description: 'false disables the endpoint (at Panora, then here); true enables it' })
  @IsBoolean()
  active!: boolean;
}

/** A secret as the admin API shows it: never the value, only its last 4 characters. */
export class SecretView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'The last 4 characters of the secret', example: 'aa4f' })
  hint!: string;

  @ApiProperty({ type: String, nullable: true, description: "Panora's endpoint id the secret came with" })
  panoraEndpointId!: string | null;

  @ApiProperty()
  createdAt!: Date;

  /** Null for the current secret; the end of its grace period for a replaced one. */
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'Null for the current secret; the end of its grace period for a replaced one',
  })
  expiresAt!: Date | null;
}

export class EndpointView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: "Panora's id_webhook_endpoint" })
  panoraEndpointId!: string | null;

  /** The URL registered at Panora. */
  @ApiProperty({ type: String, nullable: true, description: 'The URL registered at Panora' })
  url!: string | null;

  /** Where this service receives the endpoint's deliveries: the URL to give Panora. */
  @ApiProperty({ description: "Where this service receives the endpoint's deliveries: the URL to give Panora" })
  receiveUrl!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ type: [String], example: ['connection.created'] })
  scope!: string[];

  @ApiProperty()
  active!: boolean;

  @ApiProperty({ type: String, nullable: true, description: "Panora's project id" })
  idProject!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  @ApiProperty({ type: Date, nullable: true })
  deletedAt!: Date | null;

  @ApiProperty({ type: [SecretView] })
  secrets!: SecretView[];
}

export class EndpointResult extends EndpointView {
  /** E.g. scopes overlapping another active endpoint (Panora delivers to only one of them). */
  @ApiProperty({
    type: [String],
    description: 'E.g. scopes overlapping another active endpoint (Panora delivers an event to only one of them)',
  })
  warnings!: string[];
}

/** What an import did: made an endpoint, or updated the one already holding its Panora id. */
export type ImportOutcome = 'created' | 'secret_replaced' | 'updated' | 'unchanged';

export class ImportResult extends EndpointResult {
  @ApiProperty({
    enum: ['created', 'secret_replaced', 'updated', 'unchanged'],
    description:
      '`created`: a new endpoint. Imported again with the same id_webhook_endpoint: ' +
      '`secret_replaced`, the secret given is current and the previous one verifies until ' +
      '`previousSecretExpiresAt`; `updated`, same secret, scope or url replaced; `unchanged`, nothing to do',
  })
  outcome!: ImportOutcome;

  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'When `secret_replaced`: until then, deliveries signed with the previous secret still verify',
  })
  previousSecretExpiresAt!: Date | null;
}

export class RotationInfo {
  @ApiProperty()
  previousPanoraEndpointId!: string;

  @ApiProperty()
  newPanoraEndpointId!: string;

  /** Until then, deliveries signed with the previous secret still verify. */
  @ApiProperty({ description: 'Until then, deliveries signed with the previous secret still verify' })
  previousSecretExpiresAt!: Date;

  /** False when Panora refused to disable the previous endpoint: disable it by hand. */
  @ApiProperty({ description: 'False when Panora refused to disable the previous endpoint: disable it by hand' })
  previousDisabledAtPanora!: boolean;

  @ApiPropertyOptional()
  error?: string;
}

export class RotationResult extends EndpointResult {
  @ApiProperty({ type: RotationInfo })
  rotation!: RotationInfo;
}

class SyncUpdated {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  panoraEndpointId!: string;

  @ApiPropertyOptional()
  active?: boolean;

  @ApiPropertyOptional({ type: [String] })
  scope?: string[];
}

class SyncOnlyLocal {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  panoraEndpointId!: string;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;
}

class SyncNotRegistered {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;
}

class SyncOnlyAtPanora {
  @ApiProperty()
  panoraEndpointId!: string;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;

  @ApiProperty({ type: [String] })
  scope!: string[];

  @ApiProperty({ type: Boolean, nullable: true })
  active!: boolean | null;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;
}

export class SyncResult {
  /** Local endpoints whose `active` or scope were updated from Panora. */
  @ApiProperty({ type: [SyncUpdated], description: 'Local endpoints whose active or scope were updated from Panora' })
  updated!: SyncUpdated[];

  /** Local endpoints whose Panora id Panora does not list (deleted in its dashboard?). */
  @ApiProperty({
    type: [SyncOnlyLocal],
    description: 'Local endpoints whose Panora id Panora does not list (deleted in its dashboard?)',
  })
  onlyLocal!: SyncOnlyLocal[];

  /** Local endpoints never registered at Panora (imported without an id, or a registration cut short). */
  @ApiProperty({
    type: [SyncNotRegistered],
    description: 'Local endpoints never registered at Panora (imported without an id, or a registration cut short)',
  })
  notRegistered!: SyncNotRegistered[];

  /** Endpoints Panora has that this service does not know: import them to receive their events. */
  @ApiProperty({
    type: [SyncOnlyAtPanora],
    description: 'Endpoints Panora has that this service does not know: import them to receive their events',
  })
  onlyAtPanora!: SyncOnlyAtPanora[];

  @ApiProperty({ type: [String] })
  warnings!: string[];
}
