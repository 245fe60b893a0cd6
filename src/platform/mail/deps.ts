// What the mailer and its workers share, apart from both so that worker.ts need not import mailer.ts.
import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { Orm } from '../db/index.js';
import type { MailRenderer } from './templates.js';
import type { MailTransport } from './transport.js';

export interface MailDeps {
  orm: Orm;
  clock: Clock;
  audit: AuditLog;
  renderer: MailRenderer;
  transport: MailTransport;
  mailFrom: string;
  publicOrigin: string;
  log: (msg: string) => void;
}

/** `<hash-of-key@host-of-PUBLIC_ORIGIN>`: stable per idempotency key, so even a resend carries the same Message-ID. */
export function messageIdFor(idempotencyKey: string, publicOrigin: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<${hash}@${new URL(publicOrigin).hostname}>`;
}
