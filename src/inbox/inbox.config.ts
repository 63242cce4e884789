import { configSlice, type SliceOf } from '../platform/config';

/** The inbox's settings (docs/configuration.md). */
export const inboxConfig = configSlice('inbox', (env) => ({
  retentionDays: env.INBOX_RETENTION_DAYS,
}));
export type InboxConfig = SliceOf<typeof inboxConfig>;
