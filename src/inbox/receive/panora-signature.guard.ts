import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../../platform/http';
import { EndpointSecretsService, type VerificationKey } from '../../endpoints';
import { deliveryProblems, type PanoraDelivery } from '../../panora';
import { MAX_DATA_DEPTH } from '../../platform/secrets';
import { PreparsedDelivery } from './large-delivery.parser';
import { ReceiverStats } from './receiver-stats.service';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** What the guard leaves on the request for the handler. */
export interface VerifiedDelivery {
  endpointId: string;
  delivery: PanoraDelivery;
  /** The payload as JSON text, as the inbox stores it. */
  payloadJson: string;
  /** SHA-256 of `JSON.stringify(body.data)`, the exact text Panora signed (replay detection). */
  signedHash: Buffer;
}

export type VerifiedRequest = FastifyRequest & { panora?: VerifiedDelivery };

/**
 * Verifies a delivery exactly as Panora signs it: lowercase hex HMAC-SHA256, keyed with the
 * endpoint's secret as UTF-8, over `JSON.stringify(body.data)` (not the raw body; `id_event` and
 * `type` are not covered). Every active secret of the endpoint is tried (rotation), each compared
 * in constant time. In this order: 404 unknown or disabled endpoint and 415 not application/json
 * (`admit`, run by the receive gate before the body is read), then what the body parser refuses
 * (400 malformed JSON, 413 over the limit), then 400 a body that is not `{id_event, type, data}`,
 * 401 a missing, malformed or wrong signature. No answer ever contains the expected signature or
 * a secret.
 */
@Injectable()
export class PanoraSignatureGuard implements CanActivate {
  constructor(
    private readonly secrets: EndpointSecretsService,
    private readonly stats: ReceiverStats,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<VerifiedRequest>();
    // Checked by the receive gate before the body was read; again here, from the cache, so that an
    // endpoint disabled while the body was arriving is refused.
    const keys = await this.admit(request);
    const endpointId = (request.params as { endpointId: string }).endpointId;

    const problems = deliveryProblems(request.body);
    if (problems.length > 0) {
      this.stats.reject('body');
      throw new AppException(HttpStatus.BAD_REQUEST, problems, 'INVALID_BODY');
    }
    const delivery = request.body as PanoraDelivery;

    const header = request.headers['panora-signature'];
    if (header === undefined || header === '') {
      this.stats.reject('signature_missing');
      throw new AppException(HttpStatus.UNAUTHORIZED, 'Missing Panora-Signature header', 'SIGNATURE_MISSING');
    }
    if (typeof header !== 'string' || !HEX_SHA256.test(header)) {
      this.stats.reject('signature_malformed');
      throw new AppException(
        HttpStatus.UNAUTHORIZED,
        'Malformed Panora-Signature: expected 64 hexadecimal characters (HMAC-SHA256)',
        'SIGNATURE_MALFORMED',
      );
    }

    const verified = delivery instanceof PreparsedDelivery ? this.verifiedInWorker(delivery) : null;
    if (verified) {
      request.panora = { endpointId, delivery, ...verified };
      return true;
    }
    const signedText = this.signedText(delivery);
    const given = Buffer.from(header, 'hex');
    let matched = false;
    for (const { key } of keys) {
      const expected = createHmac('sha256', key).update(signedText, 'utf8').digest();
      matched = timingSafeEqual(expected, given) || matched;
    }
    if (!matched) this.mismatch();
    request.panora = {
      endpointId,
      delivery,
      // `data` as a string is the JSON text itself (Panora's code); as an object, the signed text.
      payloadJson: typeof delivery.data === 'string' ? delivery.data : signedText,
      signedHash: createHash('sha256').update(signedText, 'utf8').digest(),
    };
    return true;
  }

  /** A large body, parsed and checked by the worker (LargeDeliveryParser). */
  private verifiedInWorker(delivery: PreparsedDelivery): { payloadJson: string; signedHash: Buffer } {
    if (delivery.tooDeep) this.tooDeep();
    if (!delivery.verified || delivery.payloadJson === undefined || delivery.signedHash === undefined) this.mismatch();
    return { payloadJson: delivery.payloadJson, signedHash: delivery.signedHash };
  }

  /** `JSON.stringify(data)`: the exact text Panora signed. */
  private signedText(delivery: PanoraDelivery): string {
    try {
      return JSON.stringify(delivery.data);
    } catch {
      // `data` sent as an object thousands of levels deep: JSON.parse takes it, but JSON.stringify
      // overflows the stack. Refused like any data nested past the limit (was a 500).
      return this.tooDeep();
    }
  }

  private tooDeep(): never {
    this.stats.reject('data');
    throw new AppException(HttpStatus.BAD_REQUEST, `data nests deeper than ${MAX_DATA_DEPTH} levels`, 'DATA_TOO_DEEP');
  }

  private mismatch(): never {
    this.stats.reject('signature_mismatch');
    throw new AppException(
      HttpStatus.UNAUTHORIZED,
      "Invalid Panora-Signature: it matches no secret of this endpoint (was the endpoint's secret imported correctly?)",
      'SIGNATURE_MISMATCH',
    );
  }

  /**
   * The checks that need no body: 404 for an unknown or disabled endpoint, 415 for anything but
   * JSON. Run by the receive gate as soon as the request line and headers are in, so that a body
   * for nobody is never read, let alone parsed; the endpoint id is made canonical (lower case) on
   * the request, so that what is compared and cached is what is stored. Answers the endpoint's keys.
   */
  async admit(request: FastifyRequest): Promise<VerificationKey[]> {
    const params = request.params as { endpointId?: string };
    const endpointId = (params.endpointId ?? '').toLowerCase();
    params.endpointId = endpointId;
    const keys = await this.secrets.getVerificationKeys(endpointId);
    if (!keys) {
      this.stats.reject('unknown_endpoint');
      throw new AppException(
        HttpStatus.NOT_FOUND,
        'Unknown or disabled webhook endpoint: check the URL registered at Panora (/webhooks/panora/<endpoint id>)',
        'UNKNOWN_ENDPOINT',
      );
    }

    const contentType = request.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      this.stats.reject('content_type');
      throw new AppException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'Send the delivery as Content-Type: application/json',
        'CONTENT_TYPE',
      );
    }
    return keys;
  }
}
