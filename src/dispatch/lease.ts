import type { LoggerService } from '@nestjs/common';
import type { Claim } from './dispatch-queue.repository';

/** A running lease renewal: `stop()` ends it, after the renewal under way (if any) settles. */
export interface Lease {
  stop(): Promise<void>;
}

/**
 * Renews the lease of a round's events every third of DISPATCH_LEASE_MS until `stop()`, so a
 * round that outlives one lease (slow listeners, retries) keeps its events: another instance
 * would otherwise take them and run them twice. One renewal (`renew`: one UPDATE, answering the
 * ids it kept) at a time, for events still ours; a lost event is logged once and renewed no more.
 */
export function keepLease(
  claims: Claim[],
  leaseMs: number,
  renew: (owned: Claim[]) => Promise<{ id: string }[]>,
  logger: LoggerService,
): Lease {
  let owned = claims;
  let renewing: Promise<void> | undefined;
  const renewOwned = async () => {
    try {
      const kept = await renew(owned);
      if (kept.length < owned.length) {
        const keptIds = new Set(kept.map((k) => String(k.id)));
        const lost = owned.filter((c) => !keptIds.has(String(c.id)));
        owned = owned.filter((c) => keptIds.has(String(c.id)));
        logger.warn(
          { eventIds: lost.map((c) => String(c.id)) },
          `Lost the lease of ${lost.length} event(s) of this round (taken over or replayed meanwhile): their outcomes will not be recorded by this instance`,
        );
      }
    } catch (error) {
      // The next renewal tries again; if the lease runs out meanwhile, record() notices.
      logger.warn(`Could not renew the lease of a dispatch round: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(
    () => {
      if (renewing || owned.length === 0) return;
      renewing = renewOwned().finally(() => (renewing = undefined));
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  return {
    stop: async () => {
      clearInterval(timer);
      await renewing;
    },
  };
}
