import { createHmac, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../common/http-exception.filter';
import { EndpointSecretsService } from '../registration/endpoint-secrets.service';
import { deliveryProblems, MAX_DATA_DEPTH, type PanoraDelivery } from './delivery';
import { ReceiverStats } from './receiver-stats.service';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** What the guard leaves on the request for the handler. */
export interface VerifiedDelivery {
  endpointId: string;
  delivery: PanoraDelivery;
  /** `JSON.stringify(body.data)`: the exact text Panora signed. */
  signedText: string;
}

export type VerifiedRequest = FastifyRequest & { panora?: VerifiedDelivery };

/**
 * Verifies a delivery exactly as Panora signs it: lowercase hex HMAC-SHA256, keyed with the
 * endpoint's secret as UTF-8, over `JSON.stringify(body.data)` (not the raw body; `id_event` and
 * `type` are not covered). Every active secret of the endpoint is tried (rotation), each compared
 * in constant time. Fastify has already refused what it cannot parse (400 malformed JSON, 413 over
 * the limit, 415 a type with no parser); then, in this order: 404 unknown or disabled endpoint, 415
 * not application/json, 400 a body that is not `{id_event, type, data}`, 401 a missing, malformed
 * or wrong signature. No answer ever contains the expected signature or a secret.
 */
@Injectable()
export class PanoraSignatureGuard implements CanActivate {
  constructor(
    private readonly secrets: EndpointSecretsService,
    private readonly stats: ReceiverStats,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<VerifiedRequest>();
    const endpointId = (request.params as { endpointId?: string }).endpointId ?? '';

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

    const given = Buffer.from(header, 'hex');
    let signedText: string;
    try {
      signedText = JSON.stringify(delivery.data);
    } catch {
      // `data` sent as an object thousands of levels deep: Fastify's JSON.parse takes it, but
      // JSON.stringify overflows the stack. Refused like any data nested past the limit (was a 500).
      this.stats.reject('data');
      throw new AppException(
        HttpStatus.BAD_REQUEST,
        `data nests deeper than ${MAX_DATA_DEPTH} levels`,
        'DATA_TOO_DEEP',
      );
    }
    let verified = false;
    for (const { key } of keys) {
      const expected = createHmac('sha256', key).update(signedText, 'utf8').digest();
      verified = timingSafeEqual(expected, given) || verified;
    }
    if (!verified) {
      this.stats.reject('signature_mismatch');
      throw new AppException(
        HttpStatus.UNAUTHORIZED,
        "Invalid Panora-Signature: it matches no secret of this endpoint (was the endpoint's secret imported correctly?)",
        'SIGNATURE_MISMATCH',
      );
    }

    request.panora = { endpointId, delivery, signedText };
    return true;
  }
}
