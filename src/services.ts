import pg from 'pg';
import type { Config } from './config.js';
import { entities } from './entities.js';
import { AuditLog } from './platform/audit/index.js';
import { systemClock, type Clock } from './platform/clock.js';
import { applyMigrations, createOrm, openDatabase, type Orm } from './platform/db/index.js';
import { I18n } from './platform/i18n/index.js';
import { createMail, type Mailer, type MailWorker } from './platform/mail/index.js';
import type { WebModule } from './platform/module.js';
import { createRateLimits, type RateLimit, type RateLimitName } from './platform/http/index.js';
import { createViews, type Views } from './platform/views/index.js';
import { createCardReadsModule, createCardsModule, type CardReads, type ReaderTerminals } from './modules/cards/index.js';
import { createCredentialsModule } from './modules/credentials/index.js';
import { createHouseholdModule } from './modules/household/index.js';
import { createIntranetModule } from './modules/intranet/index.js';

export interface Services {
  config: Config;
  clock: Clock;
  orm: Orm;
  /** The PostgreSQL the app uses (DATABASE_URL or the embedded one), for tools that speak SQL directly (imports). */
  databaseUrl: string;
  /** A small pg pool for the session store (connect-pg-simple speaks pg directly). */
  sessionPool: pg.Pool;
  i18n: I18n;
  views: Views;
  audit: AuditLog;
  /** Queues e-mail in the caller's transaction (the outbox). */
  mail: Mailer;
  /** Delivers the outbox; startBackground() starts it, tests may call runOnce(). */
  mailWorker: MailWorker;
  modules: WebModule[];
  /** The card panel API (card reads bound to the session). */
  cardReads: CardReads;
  /** Counter PCs enrolled to sign card reads. */
  readerTerminals: ReaderTerminals;
  log: (msg: string) => void;
  /** Background work (the mail worker) — started by the server, not by tests unless they ask. */
  startBackground(): void;
  /** Stops background work, closes pools and releases the embedded database. */
  close(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  /** Other per-address limits (tests that show the limit without making hundreds of requests). */
  rateLimits?: Partial<Record<RateLimitName, RateLimit>>;
  /** Skip applying migrations (tests apply them once to a template database). */
  skipMigrations?: boolean;
  log?: (msg: string) => void;
}

/** The composition root: builds every shared service and every module once. */
export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const log = overrides.log ?? (config.logLevel === 'silent' ? () => {} : (msg: string) => console.log(msg));
  const clock = overrides.clock ?? systemClock;
  const database = await openDatabase(config, log);
  let orm: Orm | undefined;
  let sessionPool: pg.Pool | undefined;
  try {
    orm = await createOrm({ url: database.url, entities });
    if (!overrides.skipMigrations) {
      const applied = await applyMigrations(orm);
      if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
    }
    sessionPool = new pg.Pool({ connectionString: database.url, max: 5 });
    const audit = new AuditLog(clock);
    const rateLimits = createRateLimits({ pool: sessionPool, limits: overrides.rateLimits });
    const mail = createMail({ config, orm, clock, audit, log });
    const intranet = createIntranetModule({ orm, clock });
    const household = createHouseholdModule({ orm });
    const cards = createCardsModule({ orm });
    const cardReads = createCardReadsModule({ config, orm, clock, audit, rateLimits, registry: cards.registry, persons: household.registry });
    const credentials = createCredentialsModule({ config, clock, rateLimits, announcements: intranet.announcements, cardReads: cardReads.cardReads });
    const modules: WebModule[] = [credentials.web, cardReads.web, intranet.web, ...(mail.web ? [mail.web] : [])];
    const i18n = new I18n(...modules.flatMap((m) => (m.messages ? [m.messages] : [])));
    const views = createViews({ cache: config.env !== 'development' });

    const background: { stop(): Promise<void> }[] = [{ stop: () => mail.close() }];
    const ormRef = orm;
    const poolRef = sessionPool;
    return {
      config,
      clock,
      orm,
      databaseUrl: database.url,
      sessionPool,
      i18n,
      views,
      audit,
      mail: mail.mailer,
      mailWorker: mail.worker,
      modules,
      cardReads: cardReads.cardReads,
      readerTerminals: cardReads.terminals,
      log,
      startBackground() {
        mail.worker.start();
      },
      async close() {
        for (const job of background) await job.stop();
        await poolRef.end();
        await ormRef.close(true);
        await database.release();
      },
    };
  } catch (err) {
    await sessionPool?.end().catch(() => {});
    await orm?.close(true).catch(() => {});
    await database.release().catch(() => {});
    throw err;
  }
}
