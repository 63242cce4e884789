/** The switches of the fake Panora (fake-panora.ts): what a test makes the next requests do. */

/** A switch: applies to the next `times` requests matching `route` (`POST /webhooks`, `PUT /webhooks/`: prefix). */
export interface Rule {
  route?: string;
  times: number;
  /** Answer this instead of running the handler (401, 500…). */
  respond?: { status: number; body: string; headers?: Record<string, string> };
  /** Run the handler (state changes), then answer this body with the handler's status. */
  replaceBody?: string;
  /** Run the handler at once, answer after this delay. */
  delayMs?: number;
  /** Run the handler (state changes), then answer this instead of its result (a 5xx after acting). */
  afterActing?: { status: number; body: string };
  /** How many times the handler runs (a Panora, or a proxy before it, that retried on its own). */
  copies?: number;
  /** Run the handler, then never answer: the socket stays open until the client gives up. */
  hang?: boolean;
  /** Run the handler, then hold the answer until the test releases the gate. */
  gate?: HeldGate;
}

/** A request held by `holdAnswer`: the test sees it arrive and decides when it is answered. */
export interface Gate {
  /** Resolves once a matching request has arrived and Panora has acted on it. */
  readonly arrived: Promise<void>;
  /** Lets the held answer go. */
  release(): void;
}

export interface HeldGate extends Gate {
  arrive(): void;
  readonly released: Promise<void>;
}

export function newGate(): HeldGate {
  let arrive!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { arrived, released, arrive, release };
}

export interface RuleOptions {
  /** `METHOD /path` prefix, e.g. `POST /webhooks` or `PUT /webhooks/`; every request when unset. */
  route?: string;
  /** How many matching requests the switch applies to (default: 1). */
  times?: number;
}

/** Panora's throttler (100 requests per 60 s per IP in its code), off unless a test sets it. */
export interface FakeRateLimit {
  limit: number;
  /** Default 60 000. */
  windowMs?: number;
}

/** @nestjs/throttler v5 as Panora registers it: every request counts, the window starts at its first; over the limit, 429. */
export class FakeThrottler {
  private window: { endsAt: number; hits: number } | null = null;

  constructor(private readonly rate: FakeRateLimit) {}

  /** The 429 to answer instead, or null when the request is within the limit. */
  hit(url: string): { body: string; headers: Record<string, string> } | null {
    const now = Date.now();
    if (!this.window || this.window.endsAt <= now) {
      this.window = { endsAt: now + (this.rate.windowMs ?? 60_000), hits: 0 };
    }
    this.window.hits++;
    if (this.window.hits <= this.rate.limit) return null;
    return {
      body: throttledBody(url),
      headers: { 'retry-after': String(Math.ceil((this.window.endsAt - now) / 1000)) },
    };
  }
}

/** Panora's 429 body (its global exception filter around ThrottlerException). */
export function throttledBody(url: string): string {
  return JSON.stringify({
    statusCode: 429,
    timestamp: new Date().toISOString(),
    path: url,
    message: 'ThrottlerException: Too Many Requests',
  });
}
