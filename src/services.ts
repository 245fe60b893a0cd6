import pg from 'pg';
import type { Config } from './config.js';
import { AuditEventSchema, AuditLog } from './platform/audit/index.js';
import { deriveKey } from './platform/secrets.js';
import { systemClock, type Clock } from './platform/clock.js';
import { applyMigrations, createOrm, DATABASE_CONNECT_TIMEOUT_MS, openDatabase, type Orm } from './platform/db/index.js';
import { I18n, LOCALES } from './platform/i18n/index.js';
import { createMail, mailEntities, type Mailer, type MailTransport, type MailWorker } from './platform/mail/index.js';
import type { ModuleDefinition, PlatformDeps, WebModule } from './platform/module.js';
import { createRateLimits, type RateLimit, type RateLimitName } from './platform/http/index.js';
import { createJobs, HOUSEKEEPING_TIME, type Jobs } from './platform/jobs/index.js';
import { deleteExpiredLinkTokens, LinkTokenSchema } from './platform/tokens/index.js';
import { createViews, type Views } from './platform/views/index.js';
import { cardReadsModule, type CardReads, type ReaderTerminals } from './modules/card-reads/index.js';
import { cardsModule } from './modules/cards/index.js';
import { credentialsModule } from './modules/credentials/index.js';
import { registrationModule } from './modules/registration/index.js';
import { employersModule } from './modules/employers/index.js';
import { householdModule } from './modules/household/index.js';
import { announcementsModule } from './modules/announcements/index.js';
import { intranetModule } from './modules/intranet/index.js';
import { devicesModule } from './modules/devices/index.js';

/**
 * Every module, in the order they are built: a module comes after the modules whose API it uses.
 * Adding a module is one folder (its index.ts exports a ModuleDefinition) and one line here.
 */
export const MODULES = [announcementsModule, householdModule, cardsModule, cardReadsModule, registrationModule, credentialsModule, devicesModule, employersModule, intranetModule] as const;

type Definition = (typeof MODULES)[number];
/** Each module's public API, by module name (what create() returned as `api`). */
export type ModuleApis = { [D in Definition as D['name']]: ReturnType<D['create']>['api'] };
/** What a module may be given instead of its default implementation (its create() takes `override`). */
export type ModuleOverrides = {
  [D in Definition as D['name']]?: Parameters<D['create']>[0] extends { override?: infer O } ? O : never;
};
/** The deps every module's create() is given; a module's own Deps type must be satisfied by it (checked below). */
type ModuleDeps = PlatformDeps & { modules: ModuleApis; override?: never };
type Unsatisfied<D> = D extends Definition ? (ModuleDeps extends Parameters<D['create']>[0] ? never : D['name']) : never;
// Fails to compile, naming the module, when a module needs something the composition root does not provide.
const _everyModuleIsSatisfied: [Unsatisfied<Definition>] extends [never] ? true : Unsatisfied<Definition> = true;
void _everyModuleIsSatisfied;

/** Every entity the ORM maps: the platform's and each module's. Reading it instantiates nothing. */
export const entities = [AuditEventSchema, LinkTokenSchema, ...mailEntities, ...MODULES.flatMap((m) => m.entities ?? [])];

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
  /** The background job queue; startBackground() starts its worker, tests may call runOnce(). */
  jobs: Jobs;
  modules: WebModule[];
  /** Each module's public API, by name. */
  api: ModuleApis;
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
  /** Replaces the transport SMTP_URL chooses (a test wrapping or capturing it). */
  mailTransport?: MailTransport;
  /** Replacements for modules' default implementations, e.g. `household`: another HouseholdRegistry. */
  modules?: ModuleOverrides;
}

/** The composition root: builds every shared service and every module once. */
export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const log = overrides.log ?? (config.logLevel === 'silent' ? () => {} : (msg: string) => console.log(msg));
  const clock = overrides.clock ?? systemClock;
  const database = await openDatabase(config, log);
  let orm: Orm | undefined;
  let sessionPool: pg.Pool | undefined;
  let jobs: Jobs | undefined;
  try {
    orm = await createOrm({ url: database.url, entities, poolMax: config.databasePoolMax });
    if (!overrides.skipMigrations) {
      // The migration lock is a session's advisory lock: taken and released on one connection, never through a pooler.
      const migrator = database.directUrl === database.url ? orm : await createOrm({ url: database.directUrl, entities, poolMax: 1 });
      try {
        const applied = await applyMigrations(migrator);
        if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
      } finally {
        if (migrator !== orm) await migrator.close(true);
      }
    }
    // Sessions and rate-limit counters: a crash may lose their last fraction of a second (a person logs in again, a
    // counter restarts lower), so their commits do not wait for the disk; registrations and audit rows still do.
    sessionPool = new pg.Pool({
      connectionString: database.url,
      max: config.databasePoolMax,
      options: '-c synchronous_commit=off',
      // A database that does not answer fails the request within seconds (503), never at the TCP timeout.
      connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
    });
    // An idle connection the server ends (a restart) is dropped and replaced; without a listener it would end the process.
    sessionPool.on('error', (err) => log(`session pool: idle connection lost: ${err.message}`));
    const audit = new AuditLog(clock, deriveKey(config.sessionSecret, 'audit-person'));
    const rateLimits = createRateLimits({ pool: sessionPool, limits: overrides.rateLimits });
    const i18n = new I18n(...MODULES.flatMap((m) => (m.messages ? [m.messages] : [])));
    const mailTemplates = MODULES.flatMap((m) => m.mailTemplates ?? []);
    for (const template of mailTemplates) {
      for (const locale of LOCALES) if (!i18n.has(locale, `mail.${template}.subject`)) throw new Error(`mail template ${template} has no ${locale} subject`);
    }
    const mail = createMail({ config, orm, clock, audit, log, transport: overrides.mailTransport, templates: mailTemplates, i18n });
    jobs = createJobs({ databaseUrl: database.directUrl, log, concurrency: config.jobConcurrency, staleMs: config.jobStaleMs });
    const staffCardReadPurposes = MODULES.flatMap((m) => ('staffCardReadPurposes' in m ? m.staffCardReadPurposes : undefined) ?? []);
    const cardReadPurposes = [...MODULES.flatMap((m) => m.cardReadPurposes ?? []), ...staffCardReadPurposes];
    const platform: PlatformDeps = { config, orm, clock, audit, rateLimits, mail: mail.mailer, jobs, log, cardReadPurposes, staffCardReadPurposes };
    // Built in list order; each module sees the APIs of those before it.
    const api = {} as ModuleApis;
    const modules: WebModule[] = [];
    for (const definition of MODULES as readonly ModuleDefinition<keyof ModuleApis, PlatformDeps & { modules: ModuleApis; override?: unknown }, unknown>[]) {
      const override = overrides.modules?.[definition.name];
      const built = definition.create({ ...platform, modules: api, ...(override !== undefined ? { override } : {}) });
      (api as Record<string, unknown>)[definition.name] = built.api;
      if (built.jobs) jobs.register(built.jobs, 'schedules' in built ? built.schedules : undefined);
      modules.push({ ...built.web, name: definition.name, messages: definition.messages });
    }
    if (mail.web) modules.push(mail.web);
    jobs.register(
      { 'link-tokens-cleanup': () => orm!.em.fork().transactional((em) => deleteExpiredLinkTokens(em, clock.now())).then(() => undefined) },
      { 'link-tokens-cleanup': HOUSEKEEPING_TIME },
    );
    const views = createViews({ cache: config.env !== 'development' });

    const jobsRef = jobs;
    const background: { stop(): Promise<void> }[] = [{ stop: () => jobsRef.close() }, { stop: () => mail.close() }];
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
      jobs,
      modules,
      api,
      cardReads: api.cardReads.cardReads,
      readerTerminals: api.cardReads.terminals,
      log,
      startBackground() {
        mail.worker.start();
        jobsRef.start().catch((err: unknown) => log(`the job worker did not start: ${String(err)}`));
      },
      async close() {
        for (const job of background) await job.stop();
        await poolRef.end();
        await ormRef.close(true);
        await database.release();
      },
    };
  } catch (err) {
    await jobs?.close().catch(() => {});
    await sessionPool?.end().catch(() => {});
    await orm?.close(true).catch(() => {});
    await database.release().catch(() => {});
    throw err;
  }
}
