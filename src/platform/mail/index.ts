import type { Config } from '../../config.js';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { Orm } from '../db/index.js';
import type { I18n } from '../i18n/index.js';
import type { WebModule } from '../module.js';
import { OutboxMessageSchema } from './entity.js';
import { Mailer } from './mailer.js';
import { mailboxRouter } from './routes.js';
import { MailRenderer } from './templates.js';
import { createMailTransport, localMailboxFor, type MailTransport } from './transport.js';
import type { MailWorker, MailWorkerOptions } from './worker.js';

export { OutboxMessageSchema, OUTBOX_STATUSES, type OutboxMessage, type OutboxStatus, type MailAttachment } from './entity.js';
export { Mailer, messageIdFor, type EnqueueRequest, type EnqueueResult, type OutboxSummary } from './mailer.js';
export { MailWorker, type MailWorkerOptions, type MailRunResult } from './worker.js';
export { MAIL_TEMPLATES, MailRenderer, type MailRendererOptions, type MailTemplate, type MailTemplateData, type MailTime, type RenderedMail } from './templates.js';
export { createMailTransport, smtpTransport, mailboxTransport, type MailTransport, type OutgoingMail } from './transport.js';
export { LocalMailbox, isMailboxId, type StoredMail, type MailboxEntry } from './mailbox.js';

export const mailEntities = [OutboxMessageSchema];

export interface MailPlatform {
  mailer: Mailer;
  /** The worker startBackground() runs. */
  worker: MailWorker;
  transport: MailTransport;
  /** The development mailbox pages; only when not in production and SMTP_URL is unset. */
  web: WebModule | undefined;
  close(): Promise<void>;
}

export interface MailPlatformDeps {
  config: Config;
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  log?: (msg: string) => void;
  /** Replaces the transport SMTP_URL chooses (a test wrapping the real one). */
  transport?: MailTransport;
  worker?: MailWorkerOptions;
  /** The templates the modules declare and the catalogue holding their subjects (defaults: every template, the platform's texts). */
  templates?: readonly string[];
  i18n?: I18n;
}

/** Builds the mailer, its default worker and (in development without SMTP) the mailbox pages. */
export function createMail(deps: MailPlatformDeps): MailPlatform {
  const { config } = deps;
  const transport = deps.transport ?? createMailTransport(config);
  const mailer = new Mailer({
    orm: deps.orm,
    clock: deps.clock,
    audit: deps.audit,
    renderer: new MailRenderer({ publicOrigin: config.publicOrigin, cache: config.env === 'production', templates: deps.templates, i18n: deps.i18n }),
    transport,
    mailFrom: config.mailFrom,
    publicOrigin: config.publicOrigin,
    log: deps.log ?? (() => {}),
  });
  const worker = mailer.createWorker(deps.worker);
  const web: WebModule | undefined =
    config.env !== 'production' && !config.smtpUrl
      ? { name: 'dev-mailbox', router: mailboxRouter({ mailbox: localMailboxFor(config), mailer, allow: config.intranetAllow }) }
      : undefined;
  return {
    mailer,
    worker,
    transport,
    web,
    async close() {
      await worker.stop();
      transport.close();
    },
  };
}
