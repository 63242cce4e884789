import type { MixedList } from 'typeorm';

/**
 * Every migration, in order. A new file in `migrations/` (from `npm run migration:generate`) is
 * added here as well: an explicit list runs the same under ts-jest, ts-node and the compiled build.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: MixedList<Function> = [];
