import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { HttpStatus, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Piscina } from 'piscina';
import { AppException } from '../../platform/http';

/** Bodies up to this size are parsed inline (nearly every delivery: Panora's are a few KB). */
export const INLINE_PARSE_BYTES = 256 * 1024;
/** Large bodies waiting for a worker; past this the receiver answers 503 rather than hold more. */
const MAX_QUEUED = 16;

interface WorkerAnswer {
  invalidJson?: true;
  view?: unknown;
  isObject?: true;
  tooDeep?: true;
  verified?: boolean;
  payloadJson?: string;
  signedHash?: Uint8Array;
}

/**
 * A large delivery body, parsed and checked off the main thread: its shallow shape (`id_event`,
 * `type`; `data` only as a placeholder of its type) for the guard's shape checks, the worker's
 * verdict on the signature, and, when verified, what the inbox stores and the signed text's hash.
 */
export class PreparsedDelivery {
  constructor(
    readonly id_event: unknown,
    readonly type: unknown,
    readonly data: unknown,
    readonly tooDeep: boolean,
    /** Whether Panora-Signature matched one of the endpoint's keys over `JSON.stringify(data)`. */
    readonly verified: boolean,
    readonly payloadJson?: string,
    readonly signedHash?: Buffer,
  ) {}
}

export interface LargeDeliveryTask {
  bytes: Buffer;
  keys: readonly KeyObject[];
  signature: string | undefined;
}

/** A SyntaxError as Fastify's JSON parser raises it: answered 400 with a fixed message. */
function invalidJson(): Error {
  return Object.assign(new SyntaxError('invalid JSON body'), { statusCode: 400 });
}

/**
 * Parses large delivery bodies in a worker thread (piscina), so that one sender of 5 MB bodies,
 * valid or junk, never stalls the event loop that answers every other delivery. One thread fewer
 * than the cores (at least one), at a lower priority, started on first use and stopped when idle
 * for a minute.
 */
@Injectable()
export class LargeDeliveryParser implements OnModuleDestroy {
  private readonly pool = new Piscina({
    filename: join(__dirname, 'large-delivery.worker.js'),
    minThreads: 0,
    maxThreads: Math.max(1, availableParallelism() - 1),
    idleTimeout: 60_000,
    maxQueue: MAX_QUEUED,
    // Below the main thread's priority (nice +10, through @napi-rs/nice): on a busy machine the
    // thread that answers every delivery gets the cores first, the large bodies what is left.
    niceIncrement: 10,
  });

  async parse(task: LargeDeliveryTask): Promise<unknown> {
    const { bytes } = task;
    // The buffer is handed over, not copied, when it owns its memory (Fastify's concatenated body).
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    let answer: WorkerAnswer;
    try {
      answer = (await this.pool.run(
        task,
        owned ? { transferList: [bytes.buffer as ArrayBuffer] } : {},
      )) as WorkerAnswer;
    } catch (error) {
      if ((error as Error)?.message === 'Task queue is at limit') {
        throw new AppException(
          HttpStatus.SERVICE_UNAVAILABLE,
          'The receiver is busy with other large deliveries: nothing was stored; send it again shortly',
          'BUSY',
        );
      }
      throw error;
    }
    if (answer.invalidJson) throw invalidJson();
    if (!answer.isObject) return answer.view;
    const view = answer.view as { id_event: unknown; type: unknown; data: unknown };
    return new PreparsedDelivery(
      view.id_event,
      view.type,
      view.data,
      answer.tooDeep === true,
      answer.verified === true,
      answer.payloadJson,
      answer.signedHash &&
        Buffer.from(answer.signedHash.buffer, answer.signedHash.byteOffset, answer.signedHash.byteLength),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }
}
