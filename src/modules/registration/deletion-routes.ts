import { Router, type Request, type Response } from 'express';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { errorFor, formText, type FieldError } from '../../platform/forms/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { isFragmentRequest, render } from '../../platform/views/index.js';
import { addressChoices, addressInput, isValidIdNumber, parseAddress, wantsAddressRefresh, type DivisionsService } from '../household/index.js';
import type { Captchas } from './captcha.js';
import { newFlowId, type DeletionService } from './deletion.js';
import { emailAddress } from './rules.js';
import { Sealer } from '../../platform/secrets.js';

export interface DeletionRouteDeps {
  deletion: DeletionService;
  captchas: Captchas;
  divisions: DivisionsService;
  rateLimits: RateLimits;
  orm: Orm;
  clock: Clock;
  secret: string;
}

const DELETE = '/delete-registration';
const SUBMIT = '/delete-registration/submit';
const CONFIRM = '/delete-registration/confirm';
/** How long the result of 檢核 lets the person choose an address and press 送出刪除註冊. */
const STEP_TTL_MS = 30 * 60 * 1000;

const idNumberOf = (body: unknown): string => formText(body, 'idNumber').toUpperCase();
/** HTMX 1.9 swaps only 2xx answers: a form with its errors must still replace the panel. */
const htmxStatus = (req: Request, status: number): number => (isFragmentRequest(req) ? 200 : status);
const refreshing = (body: unknown, what: string): boolean => formText(body, 'refresh') === what;

/** 刪除註冊申請 and 確認刪除註冊作業 (SPEC.md "Delete registration", seed 003 九). No card reader needed. */
export function deletionRouter(deps: DeletionRouteDeps): Router {
  const router = Router();
  const { deletion, captchas } = deps;
  const steps = limitByAddress(deps.rateLimits.accountSteps);
  // The result of 檢核, carried by the page: the typed pair and the flow's id, sealed (nothing stored before 送出).
  const stepSeals = new Sealer(deps.secret, 'deletion-step');

  /** The captcha's answer, checked once: right or wrong, this image is used up. */
  async function captchaError(req: Request, t: Translate): Promise<FieldError | undefined> {
    if (!formText(req.body, 'captcha')) return { field: 'captcha', message: t('deletion.error.captchaMissing') };
    const check = await captchas.check(deps.orm.em.fork(), req.body?.captchaSeal, formText(req.body, 'captcha'));
    if (check === 'ok') return undefined;
    return { field: 'captcha', message: t(check === 'wrong' ? 'deletion.error.captchaWrong' : 'deletion.error.captchaExpired') };
  }

  function idNumberError(idNumber: string, t: Translate): FieldError | undefined {
    if (!idNumber) return { field: 'idNumber', message: t('deletion.error.idMissing') };
    return isValidIdNumber(idNumber) ? undefined : { field: 'idNumber', message: t('deletion.error.idInvalid') };
  }

  // 變更圖片 with HTMX: a new image and seal, nothing written. A browser without JS posts the form instead.
  router.get(`${DELETE}/captcha`, (req, res) => {
    if (!isFragmentRequest(req)) return res.redirect(303, DELETE);
    render(req, res, 'registration/_captcha', { captcha: captchas.issue() });
  });

  // 1. ID number + card number + captcha → 檢核.
  const requestPage = async (req: Request, res: Response, body: unknown, errors: FieldError[] = [], status = 200, step?: string) => {
    render(req, res, 'registration/delete', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      step,
      values: { idNumber: idNumberOf(body), cardNumber: formText(body, 'cardNumber'), method: formText(body, 'method') || 'stored', email: formText(body, 'email') },
      captcha: step ? undefined : captchas.issue(),
      address: step ? await addressChoices(deps.divisions, addressInput(body)) : undefined,
    }, { status: htmxStatus(req, status), fragment: 'registration/_delete-panel' });
  };
  router.get(DELETE, (req, res) => requestPage(req, res, {}));
  router.post(DELETE, steps, async (req, res) => {
    if (refreshing(req.body, 'captcha')) return requestPage(req, res, req.body);
    const t = res.locals.t as Translate;
    const idNumber = idNumberOf(req.body);
    const cardNumber = formText(req.body, 'cardNumber');
    const errors: FieldError[] = [];
    const idError = idNumberError(idNumber, t);
    if (idError) errors.push(idError);
    if (!/^\d{12}$/.test(cardNumber)) errors.push({ field: 'cardNumber', message: t('deletion.error.cardInvalid') });
    const captcha = await captchaError(req, t);
    if (captcha) errors.push(captcha);
    if (errors.length) return requestPage(req, res, req.body, errors, 400);
    // The same next step for every well-formed pair: whether it is a registration shows nowhere.
    const step = stepSeals.seal({ i: idNumber, c: cardNumber, f: newFlowId(), e: deps.clock.now().getTime() + STEP_TTL_MS });
    return requestPage(req, res, req.body, [], 200, step);
  });

  // 2. (a) the stored address or (b) a new one + 戶籍鄉鎮里鄰 → 送出刪除註冊.
  router.post(SUBMIT, steps, async (req, res) => {
    const t = res.locals.t as Translate;
    const step = stepSeals.open(req.body?.step);
    if (!step || typeof step.i !== 'string' || typeof step.c !== 'string' || typeof step.f !== 'string' || typeof step.e !== 'number' || step.e <= deps.clock.now().getTime()) {
      return requestPage(req, res, {}, [{ field: 'idNumber', message: t('deletion.error.stepExpired') }], 400);
    }
    const shown = { ...(req.body as object), idNumber: step.i, cardNumber: step.c };
    const stepPage = (errors: FieldError[] = [], status = 200) => requestPage(req, res, shown, errors, status, req.body.step as string);
    // 更新選項 without JavaScript: the same step with the next list filled, nothing checked.
    if (wantsAddressRefresh(req.body)) return stepPage();
    let newEmail: { email: string; villageCode: string; neighborhood: number } | undefined;
    if (formText(req.body, 'method') === 'change') {
      const email = emailAddress.safeParse(req.body?.email);
      const address = await parseAddress(deps.divisions, req.body, t);
      const errors: FieldError[] = [...(email.success ? [] : [{ field: 'email', message: t(email.error.issues[0]!.message) }]), ...(address.ok ? [] : address.errors)];
      if (errors.length || !email.success || !address.ok) return stepPage(errors, 400);
      newEmail = { email: email.data, ...address.value };
    }
    await deletion.request({ idNumber: step.i, cardNumber: step.c, flowId: step.f, newEmail, clientAddress: clientAddress(req) });
    render(req, res, 'registration/delete-done', { titleKey: 'deletion.requested.title', messageKey: 'deletion.requested.message' }, { fragment: 'registration/_delete-done' });
  });

  // 3. 確認刪除註冊作業: ID number + the e-mailed code + captcha → 確認.
  const confirmPage = (req: Request, res: Response, body: unknown, errors: FieldError[] = [], status = 200) =>
    render(req, res, 'registration/delete-confirm', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      values: { idNumber: idNumberOf(body), code: formText(body, 'code') },
      captcha: captchas.issue(),
    }, { status: htmxStatus(req, status), fragment: 'registration/_delete-confirm-panel' });
  router.get(CONFIRM, (req, res) => confirmPage(req, res, {}));
  router.post(CONFIRM, steps, async (req, res) => {
    if (refreshing(req.body, 'captcha')) return confirmPage(req, res, req.body);
    const t = res.locals.t as Translate;
    const idNumber = idNumberOf(req.body);
    const code = formText(req.body, 'code');
    const errors: FieldError[] = [];
    const idError = idNumberError(idNumber, t);
    if (idError) errors.push(idError);
    if (!code) errors.push({ field: 'code', message: t('deletion.error.codeMissing') });
    const captcha = await captchaError(req, t);
    if (captcha) errors.push(captcha);
    if (errors.length) return confirmPage(req, res, req.body, errors, 400);
    const result = await deletion.confirm({ idNumber, code, clientAddress: clientAddress(req) });
    if (result !== 'deleted') return confirmPage(req, res, req.body, [{ field: 'code', message: t('deletion.error.code') }], 400);
    render(req, res, 'registration/delete-done', { titleKey: 'deletion.deleted.title', messageKey: 'deletion.deleted.message' }, { fragment: 'registration/_delete-done' });
  });

  return router;
}
