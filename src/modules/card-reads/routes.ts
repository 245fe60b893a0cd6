import { Router, type Request, type RequestHandler, type Response } from 'express';
import { INTRANET_PATH } from '../../platform/module.js';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { render } from '../../platform/views/index.js';
import { parseClearForm, parseReadAnswer, READ_REQUEST_ID } from './forms.js';
import { refusalMessageKey, type CardReadPurpose, type CardReadRefusal } from './rules.js';
import type { CardReadService } from './service.js';
import { expectedIdNumberOf, type CardReadKeeper, type CardReads } from './session.js';

/** The path the agent's page posts to; CSRF-exempt because the signed one-time challenge protects it. */
export { CARD_READ_RETURN_PATH } from '../../protocol/index.js';

function refused(req: Request, res: Response, refusal: CardReadRefusal, returnTo?: string): void {
  render(req, res, 'card-reads/read-refused', { messageKey: refusalMessageKey(refusal), backTo: returnTo ?? '/' }, { status: refusal === 'other_session' ? 403 : 400 });
}

/**
 * POST /card-reads/:id, the agent's answer (and 清除): at all hours, since the counter works outside the citizen service hours
 * (a citizen page outside them offers no read, so nothing else arrives then).
 */
export function cardReadAnswerRouter(deps: { service: CardReadService; cardReads: CardReads; rateLimits: RateLimits }): Router {
  const router = Router();
  // 清除 of a citizen page's panel is here too, before the answer's route would take `clear` for a request id.
  router.post('/card-reads/clear', clearHandler(deps, deps.service.citizenPurposes));
  router.post('/card-reads/:id', limitByAddress(deps.rateLimits.cardReadAnswers), async (req, res) => {
    const id = String(req.params.id);
    if (!READ_REQUEST_ID.test(id)) return refused(req, res, 'unknown_request');
    const result = await deps.service.receive(id, parseReadAnswer(req.body), clientAddress(req));
    if (result.kind === 'refused') return refused(req, res, result.refusal, result.returnTo);
    // A staff page's read is claimed where the staff session is.
    res.redirect(303, `${deps.service.staffPurposes.has(result.purpose) ? INTRANET_PATH : ''}/card-reads/${id}/claim`);
  });
  return router;
}

/** The citizen pages' GET /card-reads/:id/claim. */
export function cardReadRouter(deps: { service: CardReadService; cardReads: CardReads & CardReadKeeper; rateLimits: RateLimits }): Router {
  const router = Router();
  router.get('/card-reads/:id/claim', limitByAddress(deps.rateLimits.cardReadClaims), claimHandler(deps, 'citizen'));

  return router;
}

/**
 * The staff pages' claim and 清除 (mounted under INTRANET_PATH, after the staff login check): the same steps in the
 * staff session, for staff purposes only.
 */
export function staffCardReadRouter(deps: { service: CardReadService; cardReads: CardReads & CardReadKeeper; rateLimits: RateLimits }): Router {
  const router = Router();
  router.post('/card-reads/clear', clearHandler(deps, deps.service.staffPurposes));
  router.get('/card-reads/:id/claim', limitByAddress(deps.rateLimits.cardReadClaims), claimHandler(deps, 'staff'));
  return router;
}

function claimHandler(deps: { service: CardReadService; cardReads: CardReads & CardReadKeeper }, scope: 'citizen' | 'staff'): RequestHandler {
  return async (req, res) => {
    const id = String(req.params.id);
    if (!READ_REQUEST_ID.test(id)) return refused(req, res, 'unknown_request');
    const result = await deps.service.claim(id, req.browserBinding, clientAddress(req), scope);
    if (result.kind === 'refused') return refused(req, res, result.refusal, result.returnTo);
    if (result.kind === 'card') await deps.cardReads.keep(req, result.purpose, { card: result.card });
    if (result.kind === 'failure') await deps.cardReads.keep(req, result.purpose, { failure: result.failure });
    res.redirect(303, result.returnTo);
  };
}

function clearHandler(deps: { cardReads: CardReads }, purposes: ReadonlySet<CardReadPurpose>): RequestHandler {
  return async (req, res) => {
    const form = parseClearForm(req.body, purposes);
    if (!form) return refused(req, res, 'unknown_request');
    deps.cardReads.clear(req, form.purpose);
    if (req.get('HX-Request') !== 'true') return res.redirect(303, form.returnTo);
    const panel = await deps.cardReads.panel(req, { ...form, expectedIdNumber: expectedIdNumberOf(req, form.purpose) });
    render(req, res, 'card-reads/_card-panel', { panel });
  };
}
