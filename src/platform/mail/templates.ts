import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import { formatDate, formatDateTime, I18n, type Locale } from '../i18n/index.js';
import { viewsDir } from '../paths.js';

/** A moment in a payload: a Date when enqueued, an ISO string once it has been through jsonb. */
export type MailTime = Date | string;

/**
 * Every mail the system sends and the data its templates need. Links are given as paths on this
 * site (`/register/confirm?token=…`); the renderer makes them absolute on PUBLIC_ORIGIN.
 */
export interface MailTemplateData {
  /** 健保卡網路服務註冊-認證通知信: the e-mail confirmation link, valid 5 days. */
  'registration-confirmation': { linkPath: string; expiresAt: MailTime };
  /**
   * 健保卡網路服務註冊-認證通知信 of a registration an employer's bulk upload made: the link to 健保卡註冊認證作業,
   * where the person reads the card and sets the registration password; valid 5 days. `unitCode`: the unit that
   * uploaded ('' when not known, e.g. a resend of a registration made before units were recorded).
   */
  'registration-activation': { unitCode: string; linkPath: string; expiresAt: MailTime };
  /** 註冊完成通知: sent after the e-mail is confirmed; lists the online services. */
  'registration-complete': Record<string, never>;
  /** 重設註冊密碼: the reset link. */
  'password-reset': { linkPath: string; expiresAt?: MailTime };
  /** 註冊密碼變更通知: the password was changed or reset (sent to the current main address). */
  'password-changed': { changedAt: MailTime };
  /** 電子郵件信箱變更通知: the main address was changed (sent to the old address). */
  'email-changed': { changedAt: MailTime };
  /** 刪除註冊確認信: the case-sensitive verification code and the link to 確認刪除註冊作業. */
  'deletion-confirmation': { code: string; linkPath: string; expiresAt?: MailTime };
  /** 刪除通知: the registration has been deleted. */
  'deletion-notice': { deletedAt: MailTime };
  /** The employer clerk's upload result; the per-row results travel as an attached text file. */
  'bulk-upload-result': {
    clerkName: string;
    unitCode: string;
    fileName: string;
    uploadedAt: MailTime;
    total: number;
    accepted: number;
    rejected: number;
    /** The upload's page in 健保卡註冊申請上傳紀錄查詢, when there is one. */
    linkPath?: string;
    /** False when the result file was too large to attach (the page above has it). */
    attached?: boolean;
  };
}

export type MailTemplate = keyof MailTemplateData;
export const MAIL_TEMPLATES: readonly MailTemplate[] = [
  'registration-confirmation',
  'registration-activation',
  'registration-complete',
  'password-reset',
  'password-changed',
  'email-changed',
  'deletion-confirmation',
  'deletion-notice',
  'bulk-upload-result',
];

export function isMailTemplate(value: string): value is MailTemplate {
  return (MAIL_TEMPLATES as readonly string[]).includes(value);
}

export interface MailRendererOptions {
  publicOrigin: string;
  cache: boolean;
  /** The templates that may be sent: those the modules declare (default: every MailTemplate). */
  templates?: readonly string[];
  /** Where the subjects `mail.<template>.subject` are (default: the platform's catalogue alone). */
  i18n?: I18n;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string | undefined;
}

/**
 * Renders `views/mail/<template>.<locale>.text.eta` (and `.html.eta` when present); the subject is the
 * catalogue's `mail.<template>.subject`. HTML output escapes every value; the text version escapes nothing.
 */
export class MailRenderer {
  private readonly text: Eta;
  private readonly html: Eta;
  private readonly i18n: I18n;
  private readonly templates: ReadonlySet<string>;
  private readonly hasHtml = new Map<string, boolean>();

  constructor(private readonly options: MailRendererOptions) {
    this.i18n = options.i18n ?? new I18n();
    this.templates = new Set(options.templates ?? MAIL_TEMPLATES);
    const common = { views: viewsDir, cache: options.cache, autoTrim: [false, false] as [false, false] };
    this.text = new Eta({ ...common, autoEscape: false });
    this.html = new Eta({ ...common, autoEscape: true });
  }

  /** Whether the template is one a module declared (the outbox refuses the others). */
  knows(template: string): boolean {
    return this.templates.has(template);
  }

  render(template: string, locale: Locale, data: Record<string, unknown>): RenderedMail {
    if (!this.knows(template)) throw new Error(`unknown mail template "${template}"`);
    const subjectKey = `mail.${template}.subject`;
    if (!this.i18n.has(locale, subjectKey)) throw new Error(`no subject ${subjectKey} for ${locale}`);
    const origin = this.options.publicOrigin;
    const toDate = (v: MailTime) => (v instanceof Date ? v : new Date(v));
    const context = {
      ...data,
      locale,
      origin,
      t: this.i18n.translator(locale),
      /** An absolute link on PUBLIC_ORIGIN; only paths of this site are accepted. */
      link(path: string): string {
        if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) throw new Error('mail links must be site paths');
        return new URL(path, origin).href;
      },
      dateTime: (v: MailTime) => formatDateTime(toDate(v), locale),
      date: (v: MailTime) => formatDate(toDate(v), locale),
    };
    const base = `mail/${template}.${locale}`;
    const text = this.text.render(`${base}.text.eta`, context);
    const htmlName = `${base}.html.eta`;
    let hasHtml = this.hasHtml.get(htmlName);
    if (hasHtml === undefined) {
      hasHtml = existsSync(join(viewsDir, htmlName));
      if (this.options.cache) this.hasHtml.set(htmlName, hasHtml);
    }
    const html = hasHtml ? this.html.render(htmlName, context) : undefined;
    return { subject: this.i18n.translator(locale)(subjectKey), text, html };
  }
}
