export type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from './embedded-postgres';
