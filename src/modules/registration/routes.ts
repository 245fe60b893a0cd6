import { Router, type Request, type Response } from 'express';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { errorFor, parseForm, passwordStrength, formText, formSecret, type FieldError } from '../../platform/forms/index.js';
import type { Locale, Translate } from '../../platform/i18n/index.js';
import { linkLanding, type LinkRefusal } from '../../platform/tokens/index.js';
import { render } from '../../platform/views/index.js';
import type { CardReads } from '../card-reads/index.js';
import { addressChoices, parseAddress, wantsAddressRefresh, type DivisionsService } from '../household/index.js';
import { flowOf, type EnteredContacts, type EnteredIdentity } from './flow.js';
import { emailMethodStep } from './email-method.js';
import { credentialsForm, identityForm } from './forms.js';
import { isMicrosoftMail, localPhone, personalPasswordError } from './rules.js';
import type { RegistrationService } from './service.js';

export interface RegistrationRouteDeps {
  service: RegistrationService;
  cardReads: CardReads;
  divisions: DivisionsService;
  rateLimits: RateLimits;
}

const IDENTITY = '/register/identity';
const CREDENTIALS = '/register/credentials';
const CONFIRM = '/register/confirm';
const RESEND = '/resend-confirmation';

const pick = <K extends string>(body: unknown, names: readonly K[]): Partial<Record<K, string>> =>
  Object.fromEntries(names.map((n) => [n, formText(body, n)])) as Partial<Record<K, string>>;
const IDENTITY_FIELDS = ['householdNumber', 'county', 'township', 'village', 'neighborhood'] as const;
const CONTACT_FIELDS = ['localPhoneArea', 'localPhoneNumber', 'localPhoneExt', 'mobile', 'email', 'spareEmail'] as const;

/** Messages of a card-read refusal on a step, shown beside the card panel. */
const cardError = (t: Translate, key: string): FieldError => ({ field: 'card-panel-register', message: t(key) });

/** 首次登入請先申請 → 確認申請, the confirmation link, and 重寄認證信 (SPEC.md "Register", "Resend confirmation"). */
export function registrationRouter(deps: RegistrationRouteDeps): Router {
  const router = Router();
  const { service, cardReads } = deps;
  const steps = limitByAddress(deps.rateLimits.accountSteps);

  // 1. Terms (全民健康保險網路服務註冊管理作業要點) and 我已閱讀完畢，並瞭解相關規定.
  router.get('/register', (req, res) => {
    render(req, res, 'registration/terms', {});
  });
  router.post('/register/terms', async (req, res) => {
    // A new application starts here: whatever an earlier one left in this session is dropped.
    req.session.registration = { termsAcceptedAt: Date.now() };
    delete req.session.registrationApplied;
    res.redirect(303, IDENTITY);
  });

  // 2. Identity: the card, 戶號 and 戶籍鄉鎮里鄰, checked against the household registry.
  const identityPage = async (req: Request, res: Response, entered: EnteredIdentity, errors: FieldError[] = [], status = 200) => {
    const flow = flowOf(req)!;
    render(req, res, 'registration/identity', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      values: entered,
      address: await addressChoices(deps.divisions, entered),
      cardPanel: await cardReads.panel(req, { purpose: 'register', returnTo: IDENTITY, expectedIdNumber: flow.identity?.idNumber }),
    }, { status });
  };
  router.get(IDENTITY, async (req, res) => {
    const flow = flowOf(req);
    if (!flow) return res.redirect(303, '/register');
    return identityPage(req, res, flow.entered ?? {});
  });
  router.post(IDENTITY, steps, async (req, res) => {
    const flow = flowOf(req);
    if (!flow) return res.redirect(303, '/register');
    const entered = pick(req.body, IDENTITY_FIELDS);
    flow.entered = entered;
    const t = res.locals.t as Translate;
    // 更新選項 without JavaScript: the same form with the next list filled, nothing checked or saved.
    if (wantsAddressRefresh(req.body)) return identityPage(req, res, entered);
    const form = parseForm(identityForm, req.body, t);
    const address = await parseAddress(deps.divisions, req.body, t);
    const errors: FieldError[] = [...(form.ok ? [] : form.errors), ...(address.ok ? [] : address.errors)];
    const card = cardReads.verifiedCard(req, 'register');
    if (!card) errors.unshift(cardError(t, 'registration.error.noCard'));
    if (errors.length || !card || !form.ok || !address.ok) return identityPage(req, res, entered, errors, 400);
    const check = await service.checkIdentity(card, { householdNumber: form.value.householdNumber, ...address.value }, { clientAddress: clientAddress(req) });
    if (!check.ok) {
      if (check.reason === 'unavailable') return render(req, res, 'registration/try-later', {}, { status: 503 });
      const error =
        check.reason === 'mismatch'
          ? { field: 'householdNumber', message: t('registration.error.householdMismatch') }
          : cardError(t, check.reason === 'pending' ? 'registration.error.pending' : 'registration.error.registered');
      return identityPage(req, res, entered, [error], 400);
    }
    flow.identity = check.identity;
    res.redirect(303, CREDENTIALS);
  });

  // 3. Password and contacts → 確認申請.
  const credentialsPage = async (req: Request, res: Response, entered: EnteredContacts, errors: FieldError[] = [], status = 200, strength?: string) => {
    const flow = flowOf(req)!;
    render(req, res, 'registration/credentials', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      values: entered,
      identity: flow.identity,
      microsoftMail: entered.email ? isMicrosoftMail(entered.email) : false,
      strength,
      cardPanel: await cardReads.panel(req, { purpose: 'register', returnTo: CREDENTIALS, expectedIdNumber: flow.identity!.idNumber }),
    }, { status });
  };
  router.get(CREDENTIALS, async (req, res) => {
    const flow = flowOf(req);
    if (!flow) return res.redirect(303, '/register');
    if (!flow.identity) return res.redirect(303, IDENTITY);
    return credentialsPage(req, res, flow.contacts ?? {});
  });
  router.post(CREDENTIALS, steps, async (req, res) => {
    const flow = flowOf(req);
    // A second submit after the application went through finds the flow gone: the result page, not a second one.
    if (!flow) return res.redirect(303, req.session?.registrationApplied ? '/register/applied' : '/register');
    if (!flow.identity) return res.redirect(303, IDENTITY);
    const entered = pick(req.body, CONTACT_FIELDS);
    flow.contacts = entered;
    // 上一頁: back to the identity step, keeping what was typed here (not the passwords).
    if (formText(req.body, 'back') === '1') return res.redirect(303, IDENTITY);
    const t = res.locals.t as Translate;
    const identity = flow.identity;
    const form = parseForm(credentialsForm, req.body, t);
    const errors: FieldError[] = form.ok ? [] : [...form.errors];
    const password = formSecret(req.body, 'password');
    if (!errors.some((e) => e.field === 'password') && password) {
      const personal = personalPasswordError(password, identity);
      if (personal) errors.unshift({ field: 'password', message: t(personal) });
    }
    const phone = localPhone(entered.localPhoneArea ?? '', entered.localPhoneNumber ?? '', entered.localPhoneExt ?? '');
    if ('error' in phone) errors.push({ field: 'localPhoneArea', message: t(phone.error) });
    const card = cardReads.verifiedCard(req, 'register');
    if (!card || card.idNumber !== identity.idNumber) errors.unshift(cardError(t, 'registration.error.cardAgain'));
    const strength = password ? passwordStrength(password) : undefined;
    if (errors.length || !form.ok || 'error' in phone) return credentialsPage(req, res, entered, errors, 400, strength);
    // Either outcome ends here: 'registered' means the same application won a moment earlier (a double click, two
    // tabs), since the identity step already refused cards with a registration; this submit sees what the first saw.
    await service.apply({
      identity,
      password: form.value.password,
      contacts: { email: form.value.email, spareEmail: form.value.spareEmail, localPhone: phone.value, mobile: form.value.mobile },
      locale: res.locals.locale as Locale,
      clientAddress: clientAddress(req),
    });
    delete req.session.registration;
    cardReads.clear(req, 'register');
    req.session.registrationApplied = { email: form.value.email };
    res.redirect(303, '/register/applied');
  });

  // 4. 您已完成申請並將在數分鐘後收到 E-Mail 確認信…
  router.get('/register/applied', (req, res) => {
    const applied = req.session?.registrationApplied;
    if (!applied) return res.redirect(303, '/register');
    render(req, res, 'registration/message', { titleKey: 'registration.applied.title', messageKey: 'registration.applied.message', email: applied.email });
  });

  // 5. The confirmation link (platform/tokens linkLanding: only the token's hash stays, in the session).
  const confirmLink = linkLanding({ path: CONFIRM, status: (tokenHash) => service.confirmationStatus(tokenHash) });
  const confirmPage = async (req: Request, res: Response, idNumber: string, errors: FieldError[] = [], status = 200) => {
    render(req, res, 'registration/confirm', {
      errors,
      hasErrors: errors.length > 0,
      cardPanel: await cardReads.panel(req, { purpose: 'confirm', returnTo: CONFIRM, expectedIdNumber: idNumber }),
    }, { status });
  };
  router.get(CONFIRM, async (req, res) => {
    const link = await confirmLink.land(req, res);
    if (link === true) return;
    if (!link.ok) return linkRefused(req, res, link.status);
    return confirmPage(req, res, link.subject);
  });
  router.post(CONFIRM, steps, async (req, res) => {
    // A second 確定 after the first went through hears "used", as the link itself would say.
    const link = await confirmLink.current(req);
    if (!link.ok) return linkRefused(req, res, link.status);
    const t = res.locals.t as Translate;
    const card = cardReads.verifiedCard(req, 'confirm');
    if (!card) return confirmPage(req, res, link.subject, [{ field: 'card-panel-confirm', message: t('registration.error.noCard') }], 400);
    const result = await service.confirm(link.tokenHash, card, { clientAddress: clientAddress(req) });
    if (result === 'other_card') return confirmPage(req, res, link.subject, [{ field: 'card-panel-confirm', message: t('registration.error.otherCard') }], 400);
    if (result !== 'confirmed') return linkRefused(req, res, result);
    cardReads.clear(req, 'confirm');
    render(req, res, 'registration/message', { titleKey: 'registration.confirmed.title', messageKey: 'registration.confirmed.message', loginLink: true });
  });
  const linkRefused = (req: Request, res: Response, status: LinkRefusal) => {
    render(req, res, 'registration/message', { titleKey: 'registration.link.title', messageKey: `registration.link.${status}`, resendLink: true }, { status: 410 });
  };

  // 重寄認證信: (a) the stored address, or (b) a new one proven by 戶籍鄉鎮里鄰 and the stored mobile.
  const resend = emailMethodStep(deps, 'resend', RESEND);
  const resendPage = async (req: Request, res: Response, body: unknown, errors: FieldError[] = [], status = 200) =>
    render(req, res, 'registration/resend', await resend.page(req, body, errors), { status });
  router.get(RESEND, (req, res) => resendPage(req, res, {}));
  router.post(RESEND, steps, async (req, res) => {
    const t = res.locals.t as Translate;
    if (wantsAddressRefresh(req.body)) return resendPage(req, res, req.body);
    const step = await resend.submit(req, t);
    if ('errors' in step) return resendPage(req, res, req.body, step.errors, 400);
    const outcome = await service.resend(step.card, { proof: step.proof, locale: res.locals.locale as Locale, clientAddress: clientAddress(req) });
    if (outcome === 'unavailable') return render(req, res, 'registration/try-later', {}, { status: 503 });
    if (outcome === 'address_mismatch') return resendPage(req, res, req.body, [{ field: 'village', message: t('registration.error.addressMismatch') }], 400);
    cardReads.clear(req, 'resend');
    render(req, res, 'registration/message', { titleKey: 'registration.resent.title', messageKey: 'registration.resent.message' });
  });

  return router;
}
