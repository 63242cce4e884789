import type { z } from 'zod';

/** What one routing key on the bus carries: the single source of truth for its consumers. */
export interface EventContract {
  /** The exact routing key (= the envelope's `type`), e.g. `crm.contact.upserted`. */
  routingKey: string;
  /** When it fires. */
  summary: string;
  /** What `data` holds. */
  description: string;
  /** The schema of the envelope's `data`. */
  data: z.ZodType;
  /** An example `data` (src/contracts/contracts.spec.ts validates it against `data`). */
  example: unknown;
}
