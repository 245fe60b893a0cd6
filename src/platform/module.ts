import type { EntitySchema } from '@mikro-orm/postgresql';
import type { Router } from 'express';
import type { Config } from '../config.js';
import type { AuditLog } from './audit/index.js';
import type { Clock } from './clock.js';
import type { Orm } from './db/index.js';
import type { RateLimits } from './http/index.js';
import type { Jobs, JobTask } from './jobs/index.js';
import type { Messages } from './i18n/index.js';
import type { Mailer } from './mail/mailer.js';

/** What a module contributes to the web app (app.ts mounts these). */
export interface WebModule {
  name: string;
  /** Routes open at all hours (intranet, development tools). */
  router?: Router;
  /** Citizen-facing routes: refused outside SERVICE_HOURS. */
  citizenRouter?: Router;
  /**
   * The counter intranet's routes (paths under INTRANET_PATH): reached only from INTRANET_ALLOW networks, with the
   * staff session (its own cookie, 15 minutes idle) instead of the citizen's, at all hours.
   */
  staffRouter?: Router;
  messages?: Messages;
  /** Paths that are protected by other means than the CSRF token (see READER-AGENT.md, the card-read return). */
  csrfExempt?: RegExp[];
}

/** Where the counter intranet lives: app.ts gives these paths the staff session and the network gate. */
export const INTRANET_PATH = '/intranet';

/** The shared services every module may use; built by the composition root before any module. */
export interface PlatformDeps {
  config: Config;
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  rateLimits: RateLimits;
  /** Queues e-mail in the caller's transaction (the outbox). */
  mail: Mailer;
  /** Queues background jobs in the caller's transaction (the tasks are the modules' `jobs`). */
  jobs: Jobs;
  log: (msg: string) => void;
  /** Every card-read purpose some module declared (the card reads accept no other). */
  cardReadPurposes: readonly string[];
  /** Of those, the staff pages' (ModuleDefinition.staffCardReadPurposes). */
  staffCardReadPurposes: readonly string[];
}

/** The routes and CSRF exemptions a module's create() returns. */
export type WebParts = Omit<WebModule, 'name' | 'messages'>;

/**
 * A module's one definition, exported from its index.ts: the static parts (read without a database: entities
 * for migrations, catalogue, mail templates, card-read purposes) and create(), which builds its web parts and
 * the API other modules may use. `Deps` is PlatformDeps plus the APIs of the modules it needs, by name.
 */
export interface ModuleDefinition<Name extends string = string, Deps = never, Api = unknown> {
  name: Name;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own entity list type
  entities?: readonly EntitySchema<any, any>[];
  messages?: Messages;
  /** Mail templates it sends (views/mail/<name>.<locale>.text.eta; subject `mail.<name>.subject` in its messages). */
  mailTemplates?: readonly string[];
  /** The card-read purposes its flows ask for. */
  cardReadPurposes?: readonly string[];
  /**
   * The purposes its staff pages read cards for: claimed in the staff session under INTRANET_PATH, never in a
   * citizen's, and the only purposes a counter terminal's signature may serve (READER-AGENT.md).
   */
  staffCardReadPurposes?: readonly string[];
  /** Its web parts, its API for modules after it, and the background tasks it runs (by name, run by any app process). */
  create(deps: Deps): { web?: WebParts; api: Api; jobs?: Record<string, JobTask>; schedules?: Record<string, string> };
}

/** Keeps the literal name and the Deps/Api types of a definition (so the composition root can name them). */
export function defineModule<const Name extends string, Deps, Api>(definition: ModuleDefinition<Name, Deps, Api>): ModuleDefinition<Name, Deps, Api> {
  return definition;
}
