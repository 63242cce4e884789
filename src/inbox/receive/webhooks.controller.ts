import { Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../platform/http';
import { IngestResult, IngestService } from './ingest.service';
import { PanoraSignatureGuard, type VerifiedRequest } from './panora-signature.guard';

@ApiTags('webhooks')
@Controller('webhooks/panora')
export class WebhooksController {
  constructor(private readonly ingest: IngestService) {}

  /**
   * Panora's deliveries. 200 `{received: true}` only once the event is committed to the inbox;
   * `{received: true, duplicate: true}` when this `id_event` was already stored for the endpoint.
   */
  @Post(':endpointId')
  @HttpCode(HttpStatus.OK)
  @UseGuards(PanoraSignatureGuard)
  @ApiOperation({
    operationId: 'receivePanoraWebhook',
    // No bearer key: Panora-Signature, checked against the endpoint's secrets, authenticates the call.
    security: [],
    summary: "Receive one of Panora's deliveries",
    description:
      'Called by Panora, not by admins. Verified as Panora signs: hex HMAC-SHA256 of `JSON.stringify(data)` with ' +
      "the endpoint's secret. 200 only once the event is committed; a repeated `id_event` answers " +
      '`{received: true, duplicate: true}` and is not stored again.',
  })
  @ApiParam({ name: 'endpointId', format: 'uuid', description: 'The endpoint (from its receiveUrl)' })
  @ApiHeader({
    name: 'Panora-Signature',
    required: true,
    description: 'Lowercase hex HMAC-SHA256 of JSON.stringify(body.data), keyed with the endpoint secret',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['id_event', 'type', 'data'],
      properties: {
        id_event: { type: 'string', example: 'f4e1ff72-e727-409a-8935-a63a63d4891e' },
        type: { type: 'string', example: 'connection.created' },
        data: {
          description: "The payload: a JSON string (as Panora's code sends it) or an object (as its docs show)",
          example: {
            id_connection: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
            status: 'valid',
            provider_slug: 'hubspot',
            vertical: 'crm',
            id_linked_user: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
          },
          oneOf: [{ type: 'string' }, { type: 'object' }, { type: 'array', items: { type: 'object' } }],
        },
      },
    },
  })
  @ApiOkResponse({
    description: 'Stored (or already stored: `duplicate`)',
    schema: {
      type: 'object',
      required: ['received'],
      properties: { received: { type: 'boolean', enum: [true] }, duplicate: { type: 'boolean', enum: [true] } },
    },
  })
  @ApiErrors({
    400: 'The body is not {id_event, type, data}, or data is not storable JSON',
    401: 'Panora-Signature missing, malformed, or matching no secret of the endpoint',
    404: 'Unknown, disabled or deleted endpoint',
    413: 'Larger than WEBHOOK_BODY_LIMIT',
    415: 'Not Content-Type: application/json',
    503: 'The database is unreachable: nothing was stored',
  })
  receive(@Req() request: VerifiedRequest): Promise<IngestResult> {
    return this.ingest.accept(request.panora!);
  }
}
