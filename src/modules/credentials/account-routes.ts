import { Router, type Request, type Response } from 'express';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { errorFor, parseForm, passwordStrength, formText, formSecret, type FieldError } from '../../platform/forms/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { maskIdNumber } from '../../platform/audit/index.js';
import { render } from '../../platform/views/index.js';
import { isMicrosoftMail, localPhone, localPhoneParts, type RegistrationService } from '../registration/index.js';
import { newPasswordForm, profileForm } from './forms.js';
import type { LoginSessions } from './login.js';
import type { CredentialsService } from './service.js';

declare module 'express-session' {
  interface SessionData {
    /** A one-time notice for the next logged-in page (資料儲存成功, 註冊密碼變更成功…). */
    accountNotice?: string;
  }
}

const PROFILE_FIELDS = ['email', 'spareEmail', 'localPhoneArea', 'localPhoneNumber', 'localPhoneExt', 'mobile'] as const;
type ProfileValues = Partial<Record<(typeof PROFILE_FIELDS)[number], string>>;


/** The logged-in services (SPEC.md "Logged-in services"): the menu, 註冊密碼變更, 基本資料異動. */
export function accountRouter(deps: { service: CredentialsService; registration: RegistrationService; sessions: LoginSessions; rateLimits: RateLimits }): Router {
  const router = Router();
  const { service, sessions } = deps;
  const person = (req: Request) => sessions.currentPerson(req)!;
  const takeNotice = (req: Request): string | undefined => {
    const notice = req.session.accountNotice;
    if (notice) delete req.session.accountNotice;
    return notice;
  };

  router.use('/account', sessions.requireLogin);

  router.get('/account', (req, res) => {
    render(req, res, 'account/menu', { maskedId: maskIdNumber(person(req).idNumber), notice: takeNotice(req) });
  });

  const passwordPage = (req: Request, res: Response, errors: FieldError[] = [], status = 200, strength?: string) => {
    render(req, res, 'account/password', { errors, hasErrors: errors.length > 0, errorFor, strength }, { status });
  };
  router.get('/account/password', (req, res) => passwordPage(req, res));
  router.post('/account/password', limitByAddress(deps.rateLimits.login), async (req, res) => {
    const t = res.locals.t as Translate;
    const user = person(req);
    const form = parseForm(newPasswordForm, req.body, t);
    const errors: FieldError[] = form.ok ? [] : [...form.errors];
    const account = await deps.registration.account(user.idNumber);
    if (form.ok && account) {
      const personal = await service.personalPasswordError(form.value.password, account);
      if (personal) errors.push({ field: 'password', message: t(personal) });
    }
    const password = formSecret(req.body, 'password');
    if (errors.length || !form.ok) return passwordPage(req, res, errors, 400, password ? passwordStrength(password) : undefined);
    const epoch = await service.changePassword(user.idNumber, form.value.password, { clientAddress: clientAddress(req) });
    if (epoch === null) return res.redirect(303, '/?login=ended');
    // Every other session ends with the old epoch; this one carries the new one and stays logged in.
    sessions.keepUser(req, { idNumber: user.idNumber, epoch });
    req.session.accountNotice = 'account.password.done';
    res.redirect(303, '/account');
  });

  const profilePage = (req: Request, res: Response, values: ProfileValues, errors: FieldError[] = [], status = 200, notice?: string) => {
    render(req, res, 'account/profile', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      values,
      microsoftMail: values.email ? isMicrosoftMail(values.email) : false,
      notice,
    }, { status });
  };
  router.get('/account/profile', async (req, res) => {
    const account = await deps.registration.account(person(req).idNumber);
    if (!account) return res.redirect(303, '/?login=ended');
    profilePage(req, res, { email: account.email ?? '', spareEmail: account.spareEmail ?? '', mobile: account.mobile ?? '', ...localPhoneParts(account.localPhone) }, [], 200, takeNotice(req));
  });
  router.post('/account/profile', limitByAddress(deps.rateLimits.accountSteps), async (req, res) => {
    const t = res.locals.t as Translate;
    const values = Object.fromEntries(PROFILE_FIELDS.map((n) => [n, formText(req.body, n)])) as ProfileValues;
    const form = parseForm(profileForm, req.body, t);
    const errors: FieldError[] = form.ok ? [] : [...form.errors];
    const phone = localPhone(values.localPhoneArea ?? '', values.localPhoneNumber ?? '', values.localPhoneExt ?? '');
    if ('error' in phone) errors.push({ field: 'localPhoneArea', message: t(phone.error) });
    if (errors.length || !form.ok || 'error' in phone) return profilePage(req, res, values, errors, 400);
    const saved = await service.updateProfile(person(req).idNumber, {
      email: form.value.email,
      spareEmail: form.value.spareEmail,
      localPhone: phone.value,
      mobile: form.value.mobile,
    }, { clientAddress: clientAddress(req) });
    if (!saved) return res.redirect(303, '/?login=ended');
    req.session.accountNotice = 'account.profile.saved';
    res.redirect(303, '/account/profile');
  });

  return router;
}
