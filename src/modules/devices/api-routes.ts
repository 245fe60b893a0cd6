import { Router, type Request, type RequestHandler, type Response } from 'express';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { clientAddress } from '../../platform/http/index.js';
import type { I18n, Locale } from '../../platform/i18n/index.js';
import { idNumberError } from '../household/index.js';
import { personalPasswordError, registrationPassword } from '../registration/index.js';
import type { DevicesService } from './service.js';

export const API_PREFIX = '/api/app/v1';

type ApiError = 'invalid_input' | 'number_ineligible' | 'invalid_code' | 'too_many_attempts' | 'invalid_credentials' | 'device_disabled' | 'invalid_token' | 'not_found' | 'service_unavailable';

/** The request's language for JSON messages: Accept-Language, zh-TW by default. */
export const apiLocale = (req: Request): Locale => (req.acceptsLanguages('zh-TW', 'en') === 'en' ? 'en' : 'zh-TW');

const ID_NUMBER = /^[A-Z][A-Z0-9]\d{8}$/;
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,100}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

interface Field {
  name: string;
  check(value: string): boolean;
  /** Keeps what the app sent as is (passwords, tokens) instead of trimming it. */
  raw?: boolean;
}
const text = (name: string, max: number): Field => ({ name, check: (v) => v.length >= 1 && v.length <= max && !CONTROL.test(v) });

/** The named string fields of a JSON object body, or the first field that is missing or wrong. Unknown fields are ignored. */
function readFields(body: unknown, fields: Field[]): { ok: true; value: Record<string, string> } | { ok: false; field: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, field: fields[0]!.name };
  const value: Record<string, string> = {};
  for (const field of fields) {
    const given = (body as Record<string, unknown>)[field.name];
    if (typeof given !== 'string') return { ok: false, field: field.name };
    const v = field.raw ? given : given.trim();
    if (!field.check(v)) return { ok: false, field: field.name };
    value[field.name] = v;
  }
  return { ok: true, value };
}

const BIND_FIELDS: Field[] = [
  text('code', 32),
  text('platform', 20),
  text('model', 100),
  { name: 'deviceId', check: (v) => DEVICE_ID.test(v) },
];
const LOGIN_FIELDS: Field[] = [
  { name: 'idNumber', check: (v) => ID_NUMBER.test(v) },
  { name: 'password', check: (v) => v.length >= 1 && v.length <= 128, raw: true },
  { name: 'deviceId', check: (v) => DEVICE_ID.test(v) },
  { name: 'deviceToken', check: (v) => v.length >= 1 && v.length <= 100, raw: true },
];

const PHONE_FIELDS: Field[] = [
  { name: 'mobile', check: (v) => /^09\d{8}$/.test(v) },
  { name: 'idNumber', check: (v) => idNumberError(v) === undefined },
  { name: 'cardLast4', check: (v) => /^\d{4}$/.test(v) },
  // The rules that need only the typed ID number here; the card number and birth date ones once the person is known.
  { name: 'password', check: (v) => registrationPassword.safeParse(v).success, raw: true },
  ...BIND_FIELDS.slice(1),
];

export interface ApiDeps {
  service: DevicesService;
  i18n: I18n;
  /** Wrong device codes, per device ID and per address (failures only). */
  codeFailures: RateLimiterAbstract;
  /** The per-address limit of login-like posts. */
  logins: RateLimiterAbstract;
}

/**
 * The NHI app's JSON API (INTERFACES.md "Mobile app API"): no cookies, no session, no CSRF token; the device token
 * and short-lived signed access tokens instead.
 */
export function appApiRouter(deps: ApiDeps): Router {
  const router = Router();
  const { service } = deps;
  const fail = (req: Request, res: Response, status: number, error: ApiError, extra: Record<string, string> = {}, messageKey = `api.error.${error}`) => {
    const t = deps.i18n.translator(apiLocale(req));
    res.status(status).json({ error, message: t(messageKey, { field: extra.field ?? '' }), ...extra });
  };
  const invalid = (req: Request, res: Response, field: string) => fail(req, res, 400, 'invalid_input', { field });
  const where = (req: Request) => ({ clientAddress: clientAddress(req) });
  const retryAfter = (res: Response, refused: RateLimiterRes) => res.set('Retry-After', String(Math.max(1, Math.ceil(refused.msBeforeNext / 1000))));

  const limitLogins: RequestHandler = async (req, res, next) => {
    try {
      await deps.logins.consume(clientAddress(req));
      next();
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return next(rejection);
      retryAfter(res, rejection);
      fail(req, res, 429, 'too_many_attempts');
    }
  };

  // Bind: a device code from 行動裝置認證 + the device's platform, model and ID → the device token.
  router.post(`${API_PREFIX}/devices`, async (req, res) => {
    const input = readFields(req.body, BIND_FIELDS);
    if (!input.ok) return invalid(req, res, input.field);
    const { code, platform, model, deviceId } = input.value as Record<'code' | 'platform' | 'model' | 'deviceId', string>;
    const keys = [`device:${deviceId}`, `address:${clientAddress(req)}`];
    // Past the limit every try is refused, the right code too: a guesser learns nothing more in the window.
    const counts = await Promise.all(keys.map((key) => deps.codeFailures.get(key)));
    const over = counts.filter((c): c is RateLimiterRes => !!c && c.consumedPoints >= deps.codeFailures.points);
    if (over.length) {
      retryAfter(res, over.reduce((a, b) => (a.msBeforeNext >= b.msBeforeNext ? a : b)));
      return fail(req, res, 429, 'too_many_attempts');
    }
    const result = await service.bind({ code, platform, model, deviceId }, where(req));
    if (!result.ok) {
      // Only failures count; a rejection here means this failure reached the limit, which the next try will meet.
      await Promise.all(keys.map((key) => deps.codeFailures.penalty(key, 1)));
      return fail(req, res, 400, 'invalid_code');
    }
    res.status(201).json({ deviceToken: result.deviceToken, account: result.account });
  });

  // 行動電話認證: mobile + ID number + the card's last 4 digits + a new password → registered (or re-passworded) and bound.
  router.post(`${API_PREFIX}/phone-verifications`, limitLogins, async (req, res) => {
    const input = readFields(req.body, PHONE_FIELDS);
    if (!input.ok) return invalid(req, res, input.field);
    const body = input.value as Record<'mobile' | 'idNumber' | 'cardLast4' | 'password' | 'platform' | 'model' | 'deviceId', string>;
    if (personalPasswordError(body.password, { idNumber: body.idNumber, cardNumber: '', birthDate: '' })) return invalid(req, res, 'password');
    // The card's last 4 digits are a 1-in-10,000 guess: failures count like wrong device codes, per device and address.
    const keys = [`device:${body.deviceId}`, `address:${clientAddress(req)}`];
    const counts = await Promise.all(keys.map((key) => deps.codeFailures.get(key)));
    const over = counts.filter((c): c is RateLimiterRes => !!c && c.consumedPoints >= deps.codeFailures.points);
    if (over.length) {
      retryAfter(res, over.reduce((a, b) => (a.msBeforeNext >= b.msBeforeNext ? a : b)));
      return fail(req, res, 429, 'too_many_attempts');
    }
    const result = await service.phoneVerify(body, where(req));
    if (result.ok) return res.status(201).json({ deviceToken: result.deviceToken, account: result.account, registered: true });
    if (result.error === 'invalid_password') return invalid(req, res, 'password');
    if (result.error === 'device_disabled') return fail(req, res, 403, 'device_disabled');
    if (result.error === 'unavailable') {
      res.set('Retry-After', '60');
      return fail(req, res, 503, 'service_unavailable');
    }
    await Promise.all(keys.map((key) => deps.codeFailures.penalty(key, 1)));
    if (result.error === 'invalid_credentials') return fail(req, res, 401, 'invalid_credentials', {}, 'api.error.phone_credentials');
    fail(req, res, 422, 'number_ineligible', { reason: result.reason }, `api.error.number_ineligible.${result.reason}`);
  });

  // Login: ID number + registration password on a bound, enabled device → a 15-minute access token.
  router.post(`${API_PREFIX}/sessions`, limitLogins, async (req, res) => {
    const input = readFields(req.body, LOGIN_FIELDS);
    if (!input.ok) return invalid(req, res, input.field);
    const { idNumber, password, deviceId, deviceToken } = input.value as Record<'idNumber' | 'password' | 'deviceId' | 'deviceToken', string>;
    const result = await service.login({ idNumber, password, deviceId, deviceToken }, where(req));
    if (!result.ok) return fail(req, res, result.error === 'device_disabled' ? 403 : 401, result.error);
    res.status(200).json({ accessToken: result.accessToken, expiresIn: result.expiresIn });
  });

  // The person's devices, for a valid access token.
  router.get(`${API_PREFIX}/devices`, async (req, res) => {
    const header = req.get('Authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9._-]{1,300})$/.exec(header);
    const who = match ? await service.authenticate(match[1]!) : null;
    if (!who) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return fail(req, res, 401, 'invalid_token');
    }
    const devices = await service.devices(who.idNumber);
    res.json({
      devices: devices.map((d) => ({ deviceId: d.deviceId, platform: d.platform, model: d.model, verifiedAt: d.verifiedAt.toISOString(), status: d.status })),
    });
  });

  // Anything else under the API answers JSON, not the site's 404 page.
  router.use(API_PREFIX, (req, res) => fail(req, res, 404, 'not_found'));
  return router;
}
