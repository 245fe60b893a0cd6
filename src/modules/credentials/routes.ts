import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import { clientAddress, detectBrowser, isWithinServiceHours, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import type { Locale, Translate } from '../../platform/i18n/index.js';
import { errorFor, parseForm, type FieldError } from '../../platform/forms/index.js';
import { render } from '../../platform/views/index.js';
import { loginForm } from './forms.js';
import type { LoginSessions } from './login.js';
import type { CredentialsService, LoginRefusal } from './service.js';
import type { CardReads } from '../card-reads/index.js';
import type { AnnouncementService } from '../announcements/index.js';

/** Pages linked from the home page that later work fills in; each answers a plain "not available yet" page. */
export const PLANNED_PAGES: Record<string, string> = {
  '/manual': 'home.setup.manual',
};

/** Notices the home page shows after a redirect (by query, so showing one writes no session). */
const HOME_NOTICES: Record<string, string> = {
  required: 'login.notice.required',
  ended: 'login.notice.ended',
  'logged-out': 'login.notice.loggedOut',
};

export interface HomeDeps {
  config: Config;
  clock: Clock;
  rateLimits: RateLimits;
  announcements: AnnouncementService;
  cardReads: CardReads;
  service: CredentialsService;
  sessions: LoginSessions;
}

/** Where each refusal's message goes: the card for the registration's state, the password field for a wrong password. */
const refusalError = (t: Translate, reason: LoginRefusal, attempts: number): FieldError =>
  reason === 'wrong_password' || reason === 'locked'
    ? { field: 'password', message: t('login.error.wrongPassword', { n: attempts }) }
    : { field: 'card-panel-login', message: t(`login.error.${reason}`) };

export function homeRouter(deps: HomeDeps): { router: Router; citizenRouter: Router } {
  const router = Router();
  const citizenRouter = Router();
  // Every later route sees who is logged in, and a session a password change or suspension ended is logged out here.
  router.use(...deps.sessions.middleware);
  // The home page stays reachable at all hours so it can say when the service is open.
  const homePage = async (req: Request, res: Response, extra: object = {}, status = 200) => {
    const locale = res.locals.locale as Locale;
    const announcements = await deps.announcements.current(locale);
    const open = isWithinServiceHours(deps.config.serviceHours, deps.clock.now());
    const notice = typeof req.query.login === 'string' ? HOME_NOTICES[req.query.login] : undefined;
    render(req, res, 'credentials/home', {
      errorFor,
      env: detectBrowser(req.get('User-Agent')),
      announcements,
      marquee: announcements.filter((a) => a.marquee),
      open,
      loginMessage: notice ? res.locals.t(notice) : undefined,
      loggedIn: !!deps.sessions.currentPerson(req),
      // Outside service hours the login box shows only the hours: no read to start.
      cardPanel: open ? await deps.cardReads.panel(req, { purpose: 'login', returnTo: '/' }) : undefined,
      ...extra,
    }, { status });
  };
  router.get('/', (req, res) => homePage(req, res));
  router.get('/announcements', async (req, res) => {
    const announcements = await deps.announcements.current(res.locals.locale as Locale, 20);
    render(req, res, 'credentials/announcements', { announcements }, { fragment: 'credentials/_announcements' });
  });

  // 登入: the verified 'login' card read and the registration password, through passport.
  citizenRouter.post('/login', limitByAddress(deps.rateLimits.login), async (req, res) => {
    const t = res.locals.t as Translate;
    const form = parseForm(loginForm, req.body, t);
    const errors = form.ok ? [] : [...form.errors];
    if (!deps.cardReads.verifiedCard(req, 'login')) errors.unshift({ field: 'card-panel-login', message: t('login.error.noCard') });
    if (errors.length) return homePage(req, res, { errors, hasErrors: true }, 400);
    const outcome = await deps.sessions.authenticate(req, res);
    if ('reason' in outcome) {
      return homePage(req, res, { errors: [refusalError(t, outcome.reason, deps.config.loginLockoutAttempts)], hasErrors: true, resendLink: outcome.reason === 'pending' }, 400);
    }
    // Cleared first, so the one save of the login carries it.
    deps.cardReads.clear(req, 'login');
    await deps.sessions.logIn(req, outcome.user);
    res.redirect(303, '/account');
  });

  // 登出: the session ends on the server; its cookie no longer names anything.
  citizenRouter.post('/logout', async (req, res, next) => {
    const user = deps.sessions.currentPerson(req);
    if (user) await deps.service.recordLogout(user.idNumber, { clientAddress: clientAddress(req) });
    if (!req.session) return res.redirect(303, '/?login=logged-out');
    req.session.destroy((err) => {
      if (err) return next(err);
      res.redirect(303, '/?login=logged-out');
    });
  });

  for (const [path, nameKey] of Object.entries(PLANNED_PAGES)) {
    citizenRouter.get(path, (req, res) => {
      render(req, res, 'errors/unavailable', { nameKey });
    });
  }
  return { router, citizenRouter };
}
