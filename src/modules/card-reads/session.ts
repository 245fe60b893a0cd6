import type { Request } from 'express';
import type { Clock } from '../../platform/clock.js';
import { renewIdentity } from '../../platform/http/index.js';
import { INTRANET_PATH } from '../../platform/module.js';
import { DEFAULT_LOCALE, isLocale, type Locale } from '../../platform/i18n/index.js';
import { failureMessageKey, isSafeReturnPath, type CardReadFailure, type CardReadPurpose } from './rules.js';
import type { CardReadService, VerifiedCard } from './service.js';

/** What a session keeps of card reads, per purpose (each flow has its own). */
interface CardReadSessionState {
  cards?: Partial<Record<CardReadPurpose, VerifiedCard>>;
  /** The last read's failure: shown once by the next panel. */
  failures?: Partial<Record<CardReadPurpose, CardReadFailure>>;
  /** The person a flow is bound to, so a panel rebuilt after 清除 keeps refusing other cards. */
  expected?: Partial<Record<CardReadPurpose, string>>;
}

declare module 'express-session' {
  interface SessionData {
    cardReads?: CardReadSessionState;
  }
}

export interface CardPanelOptions {
  purpose: CardReadPurpose;
  /** The page to come back to after the read: a path on this server. */
  returnTo: string;
  /** When the flow already knows the person: a card of anyone else is refused. */
  expectedIdNumber?: string;
}

/** What views/cards/_card-panel.eta needs (include it with `panel: <this>`). */
export interface CardPanel {
  purpose: CardReadPurpose;
  returnTo: string;
  /** Where 清除 posts: the staff session's route for a staff page's panel. */
  clearAction: string;
  /** The agent's status URL: polled by HTMX, framed without JS. */
  statusUrl: string;
  /** The read form (before a read). */
  read?: { action: string; req: string; challenge: string; returnUrl: string; lang: Locale };
  /** The holder (after a read). */
  card?: { name: string; cardNumber: string; readAt: string };
  /** Message key of the last read's failure, if any. */
  failureKey?: string;
}

/** The card-read API other modules' routes use. */
export interface CardReads {
  /** The panel's data: the session's card for the purpose, or a (reused or new) read request and its form. */
  panel(req: Request, options: CardPanelOptions): Promise<CardPanel>;
  /** The card this session read for the purpose, if any and still fresh (CARD_READ_FRESH_MINUTES). */
  verifiedCard(req: Request, purpose: CardReadPurpose): VerifiedCard | undefined;
  /** Forgets the purpose's card (清除, or after the flow used it). */
  clear(req: Request, purpose: CardReadPurpose): void;
}

/** The session's card-read state, created on the first write (reading it creates no session). */
function writableState(req: Request): CardReadSessionState {
  req.session.cardReads = req.session.cardReads ?? {};
  return req.session.cardReads;
}

/**
 * Every session write of a card read happens here: the panel's one-time failure and expectation, the claimed card
 * (with a new session id and browser binding, a change of identity), 清除, and cards gone stale.
 */
export function createCardReads(deps: { service: CardReadService; agentOrigin: string; publicOrigin: string; clock: Clock; freshMs: number }): CardReads & CardReadKeeper {
  const fresh = (card: VerifiedCard | undefined): VerifiedCard | undefined =>
    card && deps.clock.now().getTime() - Date.parse(card.readAt) < deps.freshMs ? card : undefined;

  return {
    async panel(req, options) {
      if (!isSafeReturnPath(options.returnTo)) throw new Error(`card panel: unsafe return path ${options.returnTo}`);
      const { purpose, returnTo, expectedIdNumber } = options;
      const state: CardReadSessionState = req.session.cardReads ?? {};
      if ((state.expected?.[purpose] ?? undefined) !== expectedIdNumber) {
        const writable = writableState(req);
        writable.expected = { ...writable.expected, [purpose]: expectedIdNumber };
        if (!expectedIdNumber) delete writable.expected[purpose];
      }
      const failure = state.failures?.[purpose];
      if (failure) delete writableState(req).failures![purpose];
      let card = state.cards?.[purpose];
      if (card && ((expectedIdNumber && card.idNumber !== expectedIdNumber) || !fresh(card))) {
        delete writableState(req).cards![purpose];
        card = undefined;
      }
      const panel: CardPanel = {
        purpose,
        returnTo,
        clearAction: `${deps.service.staffPurposes.has(purpose) ? INTRANET_PATH : ''}/card-reads/clear`,
        statusUrl: `${deps.agentOrigin}/v1/status`,
        ...(failure ? { failureKey: failureMessageKey(failure) } : {}),
      };
      if (card) return { ...panel, card: { name: card.name, cardNumber: card.cardNumber, readAt: card.readAt } };
      // Under the site-wide `same-origin` policy a browser sends `Origin: null` on the cross-origin POST, and
      // the agent refuses it: a page with a read form lets its origin (never its path) go to other origins.
      req.res?.set('Referrer-Policy', 'origin-when-cross-origin');
      const { id, challenge } = deps.service.open({ binding: req.browserBinding, purpose, returnTo, expectedIdNumber });
      const locale = req.res?.locals.locale;
      return {
        ...panel,
        read: {
          action: `${deps.agentOrigin}/v1/read`,
          req: id,
          challenge,
          returnUrl: `${deps.publicOrigin}/card-reads/${id}`,
          lang: isLocale(locale) ? locale : DEFAULT_LOCALE,
        },
      };
    },

    verifiedCard(req, purpose) {
      return fresh(req.session.cardReads?.cards?.[purpose]);
    },

    clear(req, purpose) {
      const state = req.session.cardReads;
      if (state?.cards?.[purpose]) delete state.cards[purpose];
      if (state?.failures?.[purpose]) delete state.failures[purpose];
    },

    async keep(req, purpose, outcome) {
      if ('card' in outcome) await renewIdentity(req);
      const state = writableState(req);
      if ('card' in outcome) {
        state.cards = { ...state.cards, [purpose]: outcome.card };
        if (state.failures) delete state.failures[purpose];
      } else {
        state.failures = { ...state.failures, [purpose]: outcome.failure };
        if (state.cards) delete state.cards[purpose];
      }
    },
  };
}

/** What the claim route does with its outcome. */
export interface CardReadKeeper {
  /** The claimed card (a change of identity: new session id and binding), or a failure the next panel shows once. */
  keep(req: Request, purpose: CardReadPurpose, outcome: { card: VerifiedCard } | { failure: CardReadFailure }): Promise<void>;
}

/** The expectation a panel was last built with (for the fragment after 清除). */
export const expectedIdNumberOf = (req: Request, purpose: CardReadPurpose): string | undefined => req.session.cardReads?.expected?.[purpose];
