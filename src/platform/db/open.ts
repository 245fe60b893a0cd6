import type { Config } from '../../config.js';
import { openEmbeddedDatabase } from './embedded.js';

export interface Database {
  url: string;
  /** For what a transaction-mode pooler would break: migrations, the job queue, the registry import. */
  directUrl: string;
  embedded: boolean;
  release(): Promise<void>;
}

/** The database the config names: DATABASE_URL, or the embedded PostgreSQL under DATA_DIR. */
export async function openDatabase(config: Config, log: (msg: string) => void = () => {}): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, directUrl: config.databaseDirectUrl ?? config.databaseUrl, embedded: false, release: async () => {} };
  if (!config.allowEmbeddedDb) throw new Error('The embedded database is not allowed here: set DATABASE_URL');
  const db = await openEmbeddedDatabase(config.dataDir, log);
  return { url: db.url, directUrl: db.url, embedded: true, release: db.release };
}
