import { Router, type Request, type Response } from 'express';
import { errorFor, formText, parseForm, passwordStrength, formSecret, type FieldError } from '../../platform/forms/index.js';
import { clientAddress, limitByAddress } from '../../platform/http/index.js';
import type { Locale, Translate } from '../../platform/i18n/index.js';
import { render } from '../../platform/views/index.js';
import { deviceCodeQr } from '../devices/index.js';
import { credentialsForm, isMicrosoftMail, localPhone, personalPasswordError } from '../registration/index.js';
import { IDENTITY_DOCUMENTS, type IdentityDocument } from './counter/service.js';
import type { IntranetParts } from './parts.js';
import { takeStaffNotice } from './routes.js';

declare module 'express-session' {
  interface SessionData {
    /** The person the lookup page shows (kept here, so no ID number is ever in a URL). */
    counterPerson?: string;
  }
}

const PURPOSE = 'counter';
const REGISTER = '/intranet/register';
const CONTACT_FIELDS = ['localPhoneArea', 'localPhoneNumber', 'localPhoneExt', 'mobile', 'email', 'spareEmail'] as const;

/** 臨櫃註冊 and 註冊資料查詢 with its actions (paths relative to /intranet). */
export function counterRouter(parts: IntranetParts): Router {
  const router = Router();
  const { sessions } = parts;
  const cardReads = parts.modules.cardReads.cardReads;
  const { counter } = parts;
  const where = (req: Request) => ({ clientAddress: clientAddress(req) });

  // 臨櫃註冊 ---------------------------------------------------------------------------------------------------------
  const registerPage = async (req: Request, res: Response, extra: { errors?: FieldError[]; values?: Record<string, string>; documents?: string[]; strength?: string } = {}, status = 200) => {
    const card = cardReads.verifiedCard(req, PURPOSE);
    const account = card ? await parts.modules.registration.service.account(card.idNumber) : null;
    const values = extra.values ?? {};
    render(req, res, 'intranet/counter/register', {
      cardPanel: await cardReads.panel(req, { purpose: PURPOSE, returnTo: REGISTER }),
      card,
      existing: account && account.state !== 'deleted' && account.state !== 'pending' ? account.state : undefined,
      pending: account?.state === 'pending',
      documents: IDENTITY_DOCUMENTS,
      checked: extra.documents ?? [],
      values,
      errors: extra.errors ?? [],
      hasErrors: !!extra.errors?.length,
      errorFor,
      strength: extra.strength,
      microsoftMail: values.email ? isMicrosoftMail(values.email) : false,
    }, { status });
  };

  router.get('/register', sessions.requirePermission('person.register'), (req, res) => registerPage(req, res));

  router.post('/register', sessions.requirePermission('person.register'), limitByAddress(parts.rateLimits.accountSteps), async (req, res) => {
    const t = res.locals.t as Translate;
    const values = Object.fromEntries(CONTACT_FIELDS.map((name) => [name, formText(req.body, name)]));
    const documents = checkedDocuments(req.body);
    const form = parseForm(credentialsForm, req.body, t);
    const errors: FieldError[] = form.ok ? [] : [...form.errors];
    const card = cardReads.verifiedCard(req, PURPOSE);
    if (!card) errors.unshift({ field: 'card-panel-counter', message: t('intranet.counter.error.noCard') });
    if (!documents.length) errors.unshift({ field: 'documents', message: t('intranet.counter.error.documents') });
    const phone = localPhone(values.localPhoneArea ?? '', values.localPhoneNumber ?? '', values.localPhoneExt ?? '');
    if ('error' in phone) errors.push({ field: 'localPhoneArea', message: t(phone.error) });
    const password = formSecret(req.body, 'password');
    if (form.ok && card) {
      const person = await parts.modules.household.registry.findPerson(card.idNumber).catch(() => null);
      const personal = personalPasswordError(form.value.password, { idNumber: card.idNumber, cardNumber: card.cardNumber, birthDate: person?.birthDate ?? '' });
      if (personal) errors.push({ field: 'password', message: t(personal) });
    }
    if (errors.length || !form.ok || !card || 'error' in phone) {
      return registerPage(req, res, { errors, values, documents, strength: password ? passwordStrength(password) : undefined }, 400);
    }
    const outcome = await counter.register({
      card,
      password: form.value.password,
      contacts: { email: form.value.email, spareEmail: form.value.spareEmail, mobile: form.value.mobile, localPhone: phone.value },
      documents,
      deviceCode: req.body?.deviceCode === '1',
      locale: res.locals.locale as Locale,
      staff: req.staff!.username,
      ...where(req),
    });
    if (!outcome.ok) {
      const field = outcome.reason === 'exists' ? 'card-panel-counter' : 'form';
      return registerPage(req, res, { errors: [{ field, message: t(`intranet.counter.error.${outcome.reason}`) }], values, documents }, outcome.reason === 'unavailable' ? 503 : 409);
    }
    // The card is done with; the next applicant starts from an empty panel.
    cardReads.clear(req, PURPOSE);
    req.session.counterPerson = card.idNumber;
    // Shown in this response only: the device code is never kept in the session.
    render(req, res, 'intranet/counter/registered', {
      name: card.name,
      activated: outcome.result === 'activated',
      issued: outcome.deviceCode ? { ...outcome.deviceCode, qrSvg: await deviceCodeQr(outcome.deviceCode.code) } : undefined,
    });
  });

  // 註冊資料查詢 ----------------------------------------------------------------------------------------------------
  const lookupPage = (req: Request, res: Response, extra: { errors?: FieldError[]; query?: string } = {}, status = 200) => {
    render(req, res, 'intranet/counter/lookup', { errors: extra.errors ?? [], hasErrors: !!extra.errors?.length, errorFor, query: extra.query ?? '' }, { status });
  };
  router.get('/persons', sessions.requirePermission('person.lookup'), (req, res) => lookupPage(req, res));
  router.post('/persons', sessions.requirePermission('person.lookup'), async (req, res) => {
    const t = res.locals.t as Translate;
    const query = formText(req.body, 'q');
    if (!query) return lookupPage(req, res, { errors: [{ field: 'q', message: t('intranet.persons.error.empty') }] }, 400);
    const idNumber = await counter.find(query);
    if (!idNumber) return lookupPage(req, res, { errors: [{ field: 'q', message: t('intranet.persons.error.notFound') }], query }, 404);
    req.session.counterPerson = idNumber;
    res.redirect(303, '/intranet/person');
  });

  router.get('/person', sessions.requirePermission('person.lookup'), async (req, res) => {
    const idNumber = req.session.counterPerson;
    if (!idNumber) return res.redirect(303, '/intranet/persons');
    const person = await counter.view(idNumber);
    render(req, res, 'intranet/counter/person', { person, notice: takeStaffNotice(req), errors: [], errorFor, maskEmail, maskPhone });
  });

  /** An action on the page's person: the form names the person it was shown for, so a stale tab cannot act on another. */
  const onPerson = (action: 'person.suspend' | 'person.reinstate' | 'person.unlock' | 'person.resend', run: (idNumber: string, req: Request, res: Response) => Promise<string | undefined>) => [
    sessions.requirePermission(action),
    async (req: Request, res: Response) => {
      const idNumber = req.session.counterPerson;
      if (!idNumber || formText(req.body, 'person') !== idNumber) {
        req.session.staffNotice = 'intranet.person.stale';
        return res.redirect(303, '/intranet/person');
      }
      const notice = await run(idNumber, req, res);
      if (res.headersSent) return;
      if (notice) req.session.staffNotice = notice;
      res.redirect(303, '/intranet/person');
    },
  ];

  router.post('/person/suspend', ...onPerson('person.suspend', async (idNumber, req, res) => {
    const t = res.locals.t as Translate;
    const reason = formText(req.body, 'reason');
    if (!reason || reason.length > 200) {
      const person = await counter.view(idNumber);
      const errors = [{ field: 'reason', message: t(reason ? 'intranet.person.error.reasonLong' : 'intranet.person.error.reason') }];
      render(req, res, 'intranet/counter/person', { person, errors, hasErrors: true, errorFor, reason, maskEmail, maskPhone }, { status: 400 });
      return undefined;
    }
    return (await counter.suspend(idNumber, reason, req.staff!.username, where(req))) ? 'intranet.person.suspended' : 'intranet.person.notActive';
  }));
  router.post('/person/reinstate', ...onPerson('person.reinstate', async (idNumber, req) =>
    (await counter.reinstate(idNumber, req.staff!.username, where(req))) ? 'intranet.person.reinstated' : 'intranet.person.notSuspended'));
  router.post('/person/unlock', ...onPerson('person.unlock', async (idNumber, req) =>
    (await counter.unlock(idNumber, req.staff!.username, where(req))) ? 'intranet.person.unlocked' : 'intranet.person.notLocked'));
  router.post('/person/resend', ...onPerson('person.resend', async (idNumber, req) =>
    `intranet.person.resend.${await counter.resend(idNumber, req.staff!.username, where(req))}`));

  return router;
}

function checkedDocuments(body: unknown): IdentityDocument[] {
  const raw = body && typeof body === 'object' ? (body as Record<string, unknown>).documents : undefined;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return IDENTITY_DOCUMENTS.filter((doc) => list.includes(doc));
}

/** p****@example.com.tw: enough to confirm with the person, not to read out. */
export function maskEmail(email: string | null): string {
  if (!email) return '';
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}****@${domain}`;
}

/** 0912****78: the first four and last two digits. */
export function maskPhone(phone: string | null): string {
  if (!phone) return '';
  return phone.length > 6 ? `${phone.slice(0, 4)}****${phone.slice(-2)}` : '****';
}
