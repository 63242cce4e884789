import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AppException } from '../../platform/http';
import {
  MAX_DATA_DEPTH,
  SecretBox,
  mayHoldCredentials,
  PayloadTooDeepError,
  sealCredentialsJson,
} from '../../platform/secrets';
import { jsonDepth, normaliseEventType } from '../../panora';
import { InboxSignal } from '../inbox-signal';
import { InboxDataError, InboxWriter } from '../inbox-writer.service';
import type { VerifiedDelivery } from './panora-signature.guard';
import { ReceiverStats } from './receiver-stats.service';

export interface IngestResult {
  received: true;
  duplicate?: true;
}

/**
 * Turns a verified delivery into an inbox row and waits for it to commit. Only what must happen
 * before the 2xx happens here; everything else is the dispatcher's, after the answer.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly inbox: InboxWriter,
    private readonly secretBox: SecretBox,
    private readonly stats: ReceiverStats,
    private readonly signal: InboxSignal,
  ) {}

  async accept({
    endpointId,
    delivery,
    payloadJson: signedPayload,
    signedHash,
  }: VerifiedDelivery): Promise<IngestResult> {
    let payloadJson = signedPayload;
    if (jsonDepth(payloadJson) > MAX_DATA_DEPTH) {
      this.stats.reject('data');
      throw new AppException(
        HttpStatus.BAD_REQUEST,
        `data nests deeper than ${MAX_DATA_DEPTH} levels`,
        'DATA_TOO_DEEP',
      );
    }
    const normalizedType = normaliseEventType(delivery.type);
    if (mayHoldCredentials(payloadJson)) payloadJson = this.sealed(payloadJson);

    let result;
    try {
      result = await this.inbox.write({
        endpointId,
        idEvent: delivery.id_event,
        type: delivery.type,
        normalizedType,
        payloadJson,
        signedHash,
      });
    } catch (error) {
      if (error instanceof InboxDataError) {
        this.stats.reject('data');
        throw new AppException(HttpStatus.BAD_REQUEST, error.message, 'INVALID_DATA');
      }
      throw error;
    }
    if (!result.inserted) {
      this.stats.duplicate(endpointId);
      return { received: true, duplicate: true };
    }
    this.stats.accept(endpointId, normalizedType);
    this.signal.notify();
    return { received: true };
  }

  /**
   * Seals and drops credentials as payload-secrets' CREDENTIAL_KEYS says, at any depth, before
   * anything is stored; everything else stays as Panora signed it (every digit of big numbers,
   * `__proto__` keys).
   */
  private sealed(payloadJson: string): string {
    try {
      return sealCredentialsJson(payloadJson, this.secretBox);
    } catch (error) {
      if (error instanceof PayloadTooDeepError) {
        this.stats.reject('data');
        throw new AppException(HttpStatus.BAD_REQUEST, error.message, 'DATA_TOO_DEEP');
      }
      if (!(error instanceof Error) || error.name !== 'SyntaxError') throw error;
      this.stats.reject('data');
      throw new AppException(HttpStatus.BAD_REQUEST, 'data is not valid JSON', 'INVALID_DATA');
    }
  }
}
