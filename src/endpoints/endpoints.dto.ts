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
} from 'class-validator';
import { IsKnownScopeList, IsReceivingUrl } from './endpoint-validators';

/** The request bodies of the endpoints admin API. */
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
    example: 'c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b',
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
