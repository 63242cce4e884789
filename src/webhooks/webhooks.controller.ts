import { Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import { IngestResult, IngestService } from './ingest.service';
import { PanoraSignatureGuard, type VerifiedRequest } from './panora-signature.guard';

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
  receive(@Req() request: VerifiedRequest): Promise<IngestResult> {
    return this.ingest.accept(request.panora!);
  }
}
