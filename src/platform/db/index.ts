export { openEmbeddedDatabase, type EmbeddedDatabase } from './embedded.js';
export { createOrm, applyMigrations, databaseReady, requestContext, type Orm } from './orm.js';
export { openDatabase, type Database } from './open.js';
export { DATABASE_CONNECT_TIMEOUT_MS, isDatabaseUnavailable } from './availability.js';
