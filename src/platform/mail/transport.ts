import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';
import { LocalMailbox } from './mailbox.js';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  date: Date;
  attachments?: { filename: string; content: string; contentType: string }[];
}

/** Where rendered mail goes: an SMTP server, or the local mailbox in development. */
export interface MailTransport {
  readonly kind: 'smtp' | 'mailbox';
  /** Resolves once the server accepted the message; rejects with nodemailer's error (responseCode for SMTP replies). */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * SMTP through nodemailer, one connection per message (nothing pooled to leak across an outage).
 * `smtp://` speaks plain SMTP (STARTTLS only if offered), `smtps://` implicit TLS.
 * Timeouts stay well under the worker's 2-minute lease, so a send never outlives its claim.
 */
export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 45_000,
  });
  return {
    kind: 'smtp',
    async send(mail) {
      const info = await transporter.sendMail(mail);
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

/** Development: nodemailer builds the message (jsonTransport) and the mailbox keeps it as a JSON file. */
export function mailboxTransport(mailbox: LocalMailbox): MailTransport {
  const transporter = nodemailer.createTransport({ jsonTransport: true });
  return {
    kind: 'mailbox',
    async send(mail) {
      const info = await transporter.sendMail(mail);
      const built = JSON.parse(info.message) as {
        from?: { address: string; name?: string };
        to?: { address: string; name?: string }[];
        attachments?: { filename?: string }[];
      };
      const address = (a: { address: string; name?: string }) => (a.name ? `${a.name} <${a.address}>` : a.address);
      await mailbox.write({
        messageId: info.messageId,
        from: built.from ? address(built.from) : mail.from,
        to: (built.to ?? []).map(address).join(', ') || mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html ?? null,
        date: mail.date.toISOString(),
        attachments: (built.attachments ?? []).map((a) => a.filename ?? ''),
      });
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

export function localMailboxFor(config: Config): LocalMailbox {
  return new LocalMailbox(join(config.dataDir, 'mailbox'));
}

/** SMTP_URL when set; otherwise the local mailbox (config.ts already refuses that in production). */
export function createMailTransport(config: Config): MailTransport {
  if (config.smtpUrl) return smtpTransport(config.smtpUrl);
  return mailboxTransport(localMailboxFor(config));
}
