import { applyDecorators } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiUnauthorizedResponse,
  DocumentBuilder,
  getSchemaPath,
  type OpenAPIObject,
  type ParameterObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import type { ErrorBody } from './http-exception.filter';

export const ADMIN_AUTH = 'admin-key';
export const METRICS_AUTH = 'metrics-token';
export const DOCS_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'docs/openapi.json';

/** Every error answer: the exception filter's body. */
export class ErrorBodyDto implements ErrorBody {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found' })
  error!: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'What went wrong; a list of problems for a request that failed validation',
    example: 'No endpoint with id 5b1c…',
  })
  message!: string | string[];

  @ApiPropertyOptional({ description: 'A stable code for programs', example: 'ENDPOINT_NOT_FOUND' })
  code?: string;
}

/** The admin API's bearer auth, with its 401. */
export function ApiAdminAuth(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiBearerAuth(ADMIN_AUTH),
    ApiUnauthorizedResponse({
      type: ErrorBodyDto,
      description: 'No admin key, an unknown one, or ADMIN_API_KEYS is empty (the admin API is then disabled)',
    }),
    ApiResponse({
      status: 403,
      type: ErrorBodyDto,
      description: 'A read-only key (ADMIN_READ_API_KEYS) on a route that changes state: it needs a full admin key',
    }),
    ApiResponse({
      status: 429,
      type: ErrorBodyDto,
      description:
        'Too many wrong admin keys from this client (ADMIN_AUTH_MAX_FAILURES a minute): blocked for ' +
        'ADMIN_AUTH_BLOCK_SECONDS; Retry-After says how long',
    }),
  );
}

/** Documents error answers: `@ApiErrors({ 404: 'No such endpoint' })`. */
export function ApiErrors(errors: Record<number, string>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, type: ErrorBodyDto }),
    ),
  );
}

/** A `{items, nextCursor}` page of `model`. */
export function ApiPageResponse(model: new (...args: never[]) => unknown, description: string): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status: 200,
      description,
      schema: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: { $ref: getSchemaPath(model) } },
          nextCursor: {
            type: 'string',
            nullable: true,
            description: 'Pass as `cursor` for the next page; null on the last page',
            example: '1042',
          },
        },
      },
    }),
  );
}

const DESCRIPTION = `Receives Panora's webhooks, verifies and stores them, hands them to the connections and CRM
modules and publishes domain events to RabbitMQ.

**Admin API** (\`/admin/...\`): every route needs \`Authorization: Bearer <key>\` with a key from
\`ADMIN_API_KEYS\`. Errors are \`{statusCode, error, message, code?}\`; a request that fails validation
answers 400 with \`message\` listing the problems.

**Receiving** (\`POST /webhooks/panora/{endpointId}\`) is Panora's: signed with \`Panora-Signature\`.

**Events on the bus** (RabbitMQ, for sibling services): the AsyncAPI 3.0 document at
[/docs/asyncapi.json](/docs/asyncapi.json), a channel per routing key with the JSON Schema of each message.`;

/**
 * Operation ids are what generated clients name their methods (`listEvents`, `syncEndpoints`): the
 * method name, then the controller's resource. A route names its own with `ApiOperation({operationId})`
 * where this reads badly (`replayEvent`, one event).
 */
export function operationId(controllerKey: string, methodKey: string): string {
  const resource = controllerKey.replace(/Controller$/, '');
  if (methodKey.toLowerCase().includes(resource.toLowerCase())) return methodKey;
  return `${methodKey}${resource.charAt(0).toUpperCase()}${resource.slice(1)}`;
}

/**
 * Swagger UI's "Try it out" fills a query parameter's input with its example and sends it: an optional
 * filter the user never chose would then narrow the answer. Optional query parameters keep their
 * example in the description instead (defaults stay: sending one changes nothing).
 */
export function withoutPrefilledFilters(document: OpenAPIObject): OpenAPIObject {
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations as Record<string, { parameters?: unknown[] }>)) {
      for (const parameter of (operation.parameters ?? []) as ParameterObject[]) {
        if (parameter.in !== 'query' || parameter.required) continue;
        const schema = parameter.schema as SchemaObject | undefined;
        const example: unknown = parameter.example ?? schema?.example;
        if (example === undefined) continue;
        delete parameter.example;
        if (schema) delete schema.example;
        const shown = `e.g. \`${typeof example === 'string' ? example : JSON.stringify(example)}\``;
        parameter.description = parameter.description ? `${parameter.description} (${shown})` : shown;
      }
    }
  }
  return document;
}

/**
 * The OpenAPI document of every route, served as JSON at `/docs/openapi.json` and browsable (Swagger
 * UI, from the swagger-ui-dist package: nothing is fetched from the internet) at `/docs`; `GET /`
 * redirects there, so the service's address in a browser shows its API.
 */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('panora-webhooks')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Relative: the document is served by the service it describes, so "Try it out" calls the same
    // host, whatever address (tunnel, proxy, localhost) the reader came through.
    .addServer('/', 'This service')
    // Opaque keys compared as they are, not JWTs: no bearerFormat (DocumentBuilder's addBearerAuth
    // would say "JWT").
    .addSecurity(ADMIN_AUTH, {
      type: 'http',
      scheme: 'bearer',
      description:
        'An opaque key (not a JWT), sent as `Authorization: Bearer <key>`: one of ADMIN_API_KEYS (every route), ' +
        'or of ADMIN_READ_API_KEYS (GET routes only)',
    })
    .addSecurity(METRICS_AUTH, {
      type: 'http',
      scheme: 'bearer',
      description: 'METRICS_TOKEN, an opaque token (not a JWT); GET /metrics is open when it is unset',
    })
    .addTag('endpoints', 'Webhook endpoints: registration at Panora, import, rotation, test events')
    .addTag('events', 'Received events: inspect and replay')
    .addTag('connections', "Connections caught from connection.created, with the end-users' connection tokens")
    .addTag('crm', 'CRM projections (read-only)')
    .addTag('recovery', 'Events Panora sent that never arrived: what was found and recovered, and a run on demand')
    .addTag('webhooks', "Panora's deliveries")
    .addTag('operations', 'Health and metrics')
    .build();
  const document = () =>
    withoutPrefilledFilters(SwaggerModule.createDocument(app, config, { operationIdFactory: operationId }));
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'panora-webhooks API',
    // No call to the public validator: the page works offline.
    swaggerOptions: { validatorUrl: null, docExpansion: 'list', tagsSorter: 'alpha', persistAuthorization: false },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .get('/', (_request, reply) => {
      void reply.redirect(`/${DOCS_PATH}`, 302);
    });
}
