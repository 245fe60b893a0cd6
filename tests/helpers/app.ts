import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Express } from 'express';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock, type Clock } from '../../src/platform/clock.js';
import { createServices, type ServiceOverrides, type Services } from '../../src/services.js';
import { createTestDatabase } from './db.js';

export interface TestApp {
  app: Express;
  services: Services;
  clock: ManualClock;
  databaseUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

/** Noon in Taipei: inside the default service hours. */
export const TAIPEI_NOON = '2026-03-02T04:00:00Z';

/**
 * The real app on a database of its own, with a movable clock. `env` adds or overrides environment
 * variables exactly as an operator would set them.
 */
export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  rateLimits?: ServiceOverrides['rateLimits'];
  /** Replacements for modules' default implementations (e.g. another household registry). */
  modules?: ServiceOverrides['modules'];
  mailTransport?: ServiceOverrides['mailTransport'];
  /** Where the app's log lines go (a test that reads them); silent otherwise. */
  log?: ServiceOverrides['log'];
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'nhi-app-'));
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(TAIPEI_NOON);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    PUBLIC_ORIGIN: 'http://localhost:3000',
    ...(process.env.TEST_LOG ? { LOG_LEVEL: 'info' } : {}),
    ...options.env,
  });
  const services = await createServices(config, {
    clock,
    skipMigrations: true,
    rateLimits: options.rateLimits,
    modules: options.modules,
    mailTransport: options.mailTransport,
    log: options.log,
  });
  const app = createApp(services);
  return {
    app,
    services,
    clock,
    databaseUrl: database.url,
    dataDir,
    async close() {
      await services.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Builds the app before the tests of the enclosing describe (or file) and closes it after them. The returned
 * object stands for the app once built: `t.app`, `t.services`, `t.clock` work inside tests and hooks.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let built: TestApp | undefined;
  before(async () => {
    built = await buildTestApp(options);
  });
  after(async () => {
    await built?.close();
    built = undefined;
  });
  return new Proxy({} as TestApp, {
    get(_, key) {
      if (!built) throw new Error(`the test app is not built yet (read t.${String(key)} inside a test or hook)`);
      return built[key as keyof TestApp];
    },
  });
}
