import { Router, type Request, type Response } from 'express';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { errorFor, parseForm, passwordStrength, formSecret, type FieldError } from '../../platform/forms/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { linkLanding, type LinkRefusal } from '../../platform/tokens/index.js';
import { render } from '../../platform/views/index.js';
import type { CardReads } from '../card-reads/index.js';
import { activationForm } from './forms.js';
import type { RegistrationService } from './service.js';

const ACTIVATE = '/register/activate';
const ACTIVATED = '/register/activated';
const CARD_FIELD = 'card-panel-activate';

declare module 'express-session' {
  interface SessionData {
    /** 認證成功 is shown after the redirect (the POST's answer is a 303, so a reload resubmits nothing). */
    registrationActivated?: boolean;
  }
}

/**
 * 健保卡註冊認證作業 (seed 001 健保卡整批註冊-註冊申請人): the link of the 認證信 a bulk registration mailed; the person
 * reads their own card, sets the registration password twice and 確定 makes the registration active.
 */
export function activationRouter(deps: { service: RegistrationService; cardReads: CardReads; rateLimits: RateLimits }): Router {
  const router = Router();
  const { service, cardReads } = deps;
  const steps = limitByAddress(deps.rateLimits.accountSteps);

  // platform/tokens linkLanding: only the token's hash stays, in the session, and the address bar loses the token.
  const link = linkLanding({ path: ACTIVATE, status: (tokenHash) => service.activationStatus(tokenHash) });
  const page = async (req: Request, res: Response, idNumber: string, errors: FieldError[] = [], status = 200, strength?: string) => {
    render(req, res, 'registration/activate', {
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      strength,
      // Bound to the person the link is for: another person's card is refused at the read.
      cardPanel: await cardReads.panel(req, { purpose: 'activate', returnTo: ACTIVATE, expectedIdNumber: idNumber }),
    }, { status });
  };
  const refused = (req: Request, res: Response, status: LinkRefusal) => {
    render(req, res, 'registration/message', { titleKey: 'registration.link.title', messageKey: `registration.link.${status}`, resendLink: true }, { status: 410 });
  };

  router.get(ACTIVATE, async (req, res) => {
    const landed = await link.land(req, res);
    if (landed === true) return;
    if (!landed.ok) return refused(req, res, landed.status);
    return page(req, res, landed.subject);
  });

  router.post(ACTIVATE, steps, async (req, res) => {
    // A second 確定 after the first went through hears "used", as the link itself would say.
    const current = await link.current(req);
    if (!current.ok) return refused(req, res, current.status);
    const t = res.locals.t as Translate;
    const form = parseForm(activationForm, req.body, t);
    const errors: FieldError[] = form.ok ? [] : [...form.errors];
    const card = cardReads.verifiedCard(req, 'activate');
    if (!card) errors.unshift({ field: CARD_FIELD, message: t('registration.error.noCard') });
    else if (card.idNumber !== current.subject) errors.unshift({ field: CARD_FIELD, message: t('registration.activate.otherCard') });
    if (card && form.ok) {
      const personal = await service.personalPasswordError(form.value.password, card);
      if (personal) errors.push({ field: 'password', message: t(personal) });
    }
    const password = formSecret(req.body, 'password');
    const strength = password ? passwordStrength(password) : undefined;
    if (errors.length || !card || !form.ok) return page(req, res, current.subject, errors, 400, strength);
    const result = await service.activate(current.tokenHash, card, form.value.password, { clientAddress: clientAddress(req) });
    if (result === 'other_card') return page(req, res, current.subject, [{ field: CARD_FIELD, message: t('registration.activate.otherCard') }], 400);
    if (result !== 'activated') return refused(req, res, result);
    cardReads.clear(req, 'activate');
    req.session.registrationActivated = true;
    res.redirect(303, ACTIVATED);
  });

  router.get(ACTIVATED, (req, res) => {
    if (!req.session?.registrationActivated) return res.redirect(303, '/');
    render(req, res, 'registration/message', { titleKey: 'registration.activated.title', messageKey: 'registration.activated.message', loginLink: true });
  });

  return router;
}
