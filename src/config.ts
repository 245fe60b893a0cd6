import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { appRoot } from './platform/paths.js';

/** A daily window in Asia/Taipei, minutes from midnight; end 1440 = 24:00. */
export interface ServiceHours {
  start: number;
  end: number;
  text: string;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  /** The address the server listens on: loopback in development and tests, every interface in production. */
  host: string;
  publicOrigin: string;
  databaseUrl: string | undefined;
  /** DATABASE_DIRECT_URL: the same database without a transaction-mode pooler in between, for migrations (advisory lock),
   * the job queue (LISTEN) and the registry import (session settings); DATABASE_URL when unset. */
  databaseDirectUrl: string | undefined;
  allowEmbeddedDb: boolean;
  dataDir: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  sessionSecret: string;
  sessionSecretIsDefault: boolean;
  agentOrigin: string;
  intranetAllow: string[];
  serviceHours: ServiceHours;
  secureCookies: boolean;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For/-Proto to believe (client address, HTTPS). */
  trustProxy: boolean | number | string[];
  logLevel: 'silent' | 'info';
  /** How long a verified card stays usable in a session before it must be read again. */
  cardReadFreshMs: number;
  /** Consecutive wrong passwords that stop password login for a person (LOGIN_LOCKOUT_ATTEMPTS). */
  loginLockoutAttempts: number;
  /** CAPTCHA_FIXED: every image captcha's answer, for scripted clients (never in production). */
  captchaFixed: string | undefined;
  /** How long a 行動裝置認證 code can bind a device (DEVICE_CODE_MINUTES). */
  deviceCodeMs: number;
  /** TELECOM_SIM_FILE: the simulated telecom operator's numbers (行動電話認證); unset, it knows none. */
  telecomSimFile: string | undefined;
  /** DATABASE_POOL_MAX: connections of each of an app process's two pools (the ORM's, the session store's). */
  databasePoolMax: number;
  /** JOB_CONCURRENCY: background jobs one app process runs at once. */
  jobConcurrency: number;
  /** JOB_STALE_SECONDS: a job locked this long without a heartbeat belonged to a stopped process and runs again. */
  jobStaleMs: number;
  /** UPLOAD_MAX_MB: the largest bulk-registration file accepted. */
  uploadMaxBytes: number;
  /** UPLOAD_MAX_ROWS: the most data rows one bulk-registration file may have. */
  uploadMaxRows: number;
  /** UPLOAD_KEEP_DAYS: how long a finished upload, its rows (ID numbers, e-mails) and its files are kept. */
  uploadKeepMs: number;
}

const hhmm = /^([01]\d|2[0-4]):([0-5]\d)$/;

export function parseServiceHours(text: string): ServiceHours {
  const [from, to] = text.split('-');
  const toMinutes = (v: string | undefined): number => {
    const m = hhmm.exec((v ?? '').trim());
    if (!m) throw new Error(`SERVICE_HOURS must look like 06:00-24:00, got "${text}"`);
    const minutes = Number(m[1]) * 60 + Number(m[2]);
    if (minutes > 1440) throw new Error(`SERVICE_HOURS time out of range in "${text}"`);
    return minutes;
  };
  const start = toMinutes(from);
  const end = toMinutes(to);
  if (end <= start) throw new Error(`SERVICE_HOURS must end after it starts: "${text}"`);
  return { start, end, text: `${from!.trim()}-${to!.trim()}` };
}

function origin(name: string) {
  return z
    .string()
    .url({ message: `${name} must be an absolute URL` })
    .transform((v) => new URL(v).origin);
}

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).optional(),
  PUBLIC_ORIGIN: origin('PUBLIC_ORIGIN').optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL').optional(),
  DATABASE_DIRECT_URL: z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_DIRECT_URL must be a postgres:// URL').optional(),
  ALLOW_EMBEDDED_DB: z.enum(['0', '1']).default('0'),
  DATA_DIR: z.string().min(1).default('.data'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'SMTP_URL must be smtp:// or smtps://').optional(),
  MAIL_FROM: z.string().min(3).default('健保卡網路服務註冊 <no-reply@nhi-registration.localhost>'),
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters').optional(),
  AGENT_ORIGIN: origin('AGENT_ORIGIN').default('http://127.0.0.1:7777'),
  INTRANET_ALLOW: z.string().default('127.0.0.1/8,::1'),
  SERVICE_HOURS: z.string().default('06:00-24:00'),
  TRUST_PROXY: z.string().default('loopback'),
  LOG_LEVEL: z.enum(['silent', 'info']).optional(),
  CARD_READ_FRESH_MINUTES: z.coerce.number().int().min(1).max(720).default(10),
  LOGIN_LOCKOUT_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  CAPTCHA_FIXED: z.string().regex(/^\d{4,8}$/, 'CAPTCHA_FIXED must be 4 to 8 digits').optional(),
  DEVICE_CODE_MINUTES: z.coerce.number().int().min(1).max(60).default(10),
  TELECOM_SIM_FILE: z.string().trim().min(1).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  JOB_STALE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  UPLOAD_MAX_MB: z.coerce.number().min(1).max(200).default(20),
  UPLOAD_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
  UPLOAD_KEEP_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
});

/** `true`/`false`, a hop count, or a comma-separated list of addresses, CIDR ranges or Express's names (loopback, uniquelocal). */
function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Reads and validates the environment once. Throws with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankToUndefined = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]),
  );
  const parsed = schema.safeParse(blankToUndefined);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const serviceHours = parseServiceHours(e.SERVICE_HOURS);
  const publicOrigin = e.PUBLIC_ORIGIN ?? `http://localhost:${e.PORT}`;

  if (production) {
    const refusals: string[] = [];
    if (!e.SESSION_SECRET) refusals.push('SESSION_SECRET is required in production');
    if (!e.DATABASE_URL && e.ALLOW_EMBEDDED_DB !== '1')
      refusals.push('DATABASE_URL is required in production (or ALLOW_EMBEDDED_DB=1 for a single-container deploy)');
    if (!e.SMTP_URL) refusals.push('SMTP_URL is required in production (the local mailbox is for development)');
    if (e.CAPTCHA_FIXED) refusals.push('CAPTCHA_FIXED is for development and tests: unset it in production');
    if (refusals.length) throw new Error(`Refusing to start in production:\n  ${refusals.join('\n  ')}`);
  }

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    publicOrigin,
    databaseUrl: e.DATABASE_URL,
    databaseDirectUrl: e.DATABASE_URL ? e.DATABASE_DIRECT_URL : undefined,
    allowEmbeddedDb: !production || e.ALLOW_EMBEDDED_DB === '1',
    dataDir: resolve(appRoot, e.DATA_DIR),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    sessionSecret: e.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    sessionSecretIsDefault: !e.SESSION_SECRET,
    agentOrigin: e.AGENT_ORIGIN,
    intranetAllow: e.INTRANET_ALLOW.split(',').map((s) => s.trim()).filter(Boolean),
    serviceHours,
    secureCookies: publicOrigin.startsWith('https:'),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    cardReadFreshMs: e.CARD_READ_FRESH_MINUTES * 60 * 1000,
    loginLockoutAttempts: e.LOGIN_LOCKOUT_ATTEMPTS,
    captchaFixed: e.CAPTCHA_FIXED,
    deviceCodeMs: e.DEVICE_CODE_MINUTES * 60 * 1000,
    telecomSimFile: e.TELECOM_SIM_FILE ? resolve(appRoot, e.TELECOM_SIM_FILE) : undefined,
    databasePoolMax: e.DATABASE_POOL_MAX,
    jobConcurrency: e.JOB_CONCURRENCY,
    jobStaleMs: e.JOB_STALE_SECONDS * 1000,
    uploadMaxBytes: Math.round(e.UPLOAD_MAX_MB * 1024 * 1024),
    uploadMaxRows: e.UPLOAD_MAX_ROWS,
    uploadKeepMs: e.UPLOAD_KEEP_DAYS * 24 * 60 * 60 * 1000,
  };
}
