import { Router, type Request, type Response } from 'express';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { errorFor, parseForm, passwordStrength, formSecret, type FieldError } from '../../platform/forms/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { linkLanding } from '../../platform/tokens/index.js';
import { render } from '../../platform/views/index.js';
import type { CardReads } from '../card-reads/index.js';
import { wantsAddressRefresh, type DivisionsService } from '../household/index.js';
import { emailMethodStep } from '../registration/index.js';
import { newPasswordForm } from './forms.js';
import type { CredentialsService, ResetResult } from './service.js';

const FORGOT = '/forgot-password';
const RESET = '/reset-password';


/** 忘記註冊密碼 and the reset link's page (SPEC.md "Forgot password"). */
export function recoveryRouter(deps: { service: CredentialsService; cardReads: CardReads; divisions: DivisionsService; rateLimits: RateLimits }): Router {
  const router = Router();
  const { service, cardReads } = deps;
  const steps = limitByAddress(deps.rateLimits.accountSteps);

  const forgot = emailMethodStep(deps, 'forgot', FORGOT);
  const forgotPage = async (req: Request, res: Response, body: unknown, errors: FieldError[] = [], status = 200) =>
    render(req, res, 'forgot/forgot', await forgot.page(req, body, errors), { status });
  router.get(FORGOT, (req, res) => forgotPage(req, res, {}));
  router.post(FORGOT, steps, async (req, res) => {
    const t = res.locals.t as Translate;
    if (wantsAddressRefresh(req.body)) return forgotPage(req, res, req.body);
    const step = await forgot.submit(req, t);
    if ('errors' in step) return forgotPage(req, res, req.body, step.errors, 400);
    const card = step.card;
    const outcome = await service.requestReset(card, { proof: step.proof, clientAddress: clientAddress(req) });
    if (outcome === 'unavailable') return render(req, res, 'registration/try-later', {}, { status: 503 });
    if (outcome === 'address_mismatch') return forgotPage(req, res, req.body, [{ field: 'village', message: t('registration.error.addressMismatch') }], 400);
    cardReads.clear(req, 'forgot');
    // The same page whether or not the card is registered (no enumeration).
    render(req, res, 'credentials/message', { titleKey: 'forgot.sent.title', messageKey: 'forgot.sent.message' });
  });

  // The reset link (platform/tokens linkLanding: only the token's hash stays, in the session).
  const resetLink = linkLanding({ path: RESET, status: (tokenHash) => service.resetStatus(tokenHash) });
  router.get(RESET, async (req, res) => {
    const link = await resetLink.land(req, res);
    if (link === true) return;
    if (!link.ok) return linkRefused(req, res, link.status);
    return resetPage(req, res, link.subject);
  });
  const resetPage = async (req: Request, res: Response, idNumber: string, errors: FieldError[] = [], status = 200, strength?: string) => {
    render(req, res, 'forgot/reset', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      strength,
      cardPanel: await cardReads.panel(req, { purpose: 'reset', returnTo: RESET, expectedIdNumber: idNumber }),
    }, { status });
  };
  router.post(RESET, steps, async (req, res) => {
    // A second submit after the reset went through hears "used", as the link itself would say.
    const link = await resetLink.current(req);
    if (!link.ok) return linkRefused(req, res, link.status);
    const reset = { tokenHash: link.tokenHash, idNumber: link.subject };
    const t = res.locals.t as Translate;
    const form = parseForm(newPasswordForm, req.body, t);
    const errors: FieldError[] = form.ok ? [] : [...form.errors];
    const card = cardReads.verifiedCard(req, 'reset');
    if (!card) errors.unshift({ field: 'card-panel-reset', message: t('registration.error.noCard') });
    else if (card.idNumber !== reset.idNumber) errors.unshift({ field: 'card-panel-reset', message: t('forgot.error.otherCard') });
    const password = formSecret(req.body, 'password');
    if (card && form.ok) {
      const personal = await service.personalPasswordError(form.value.password, card);
      if (personal) errors.push({ field: 'password', message: t(personal) });
    }
    const strength = password ? passwordStrength(password) : undefined;
    if (errors.length || !card || !form.ok) return resetPage(req, res, reset.idNumber, errors, 400, strength);
    const result = await service.reset(reset.tokenHash, card, form.value.password, { clientAddress: clientAddress(req) });
    if (result === 'other_card') return resetPage(req, res, reset.idNumber, [{ field: 'card-panel-reset', message: t('forgot.error.otherCard') }], 400);
    if (result !== 'done') return linkRefused(req, res, result);
    cardReads.clear(req, 'reset');
    render(req, res, 'credentials/message', { titleKey: 'forgot.reset.doneTitle', messageKey: 'account.password.done', loginLink: true });
  });
  const linkRefused = (req: Request, res: Response, status: Exclude<ResetResult, 'done' | 'other_card'>) => {
    render(req, res, 'credentials/message', { titleKey: 'forgot.link.title', messageKey: `forgot.link.${status}`, forgotLink: true }, { status: 410 });
  };

  return router;
}
