import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import { detectBrowser, isWithinServiceHours, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import type { Locale } from '../../platform/i18n/index.js';
import { errorFor, parseForm } from '../../platform/forms/index.js';
import { render } from '../../platform/views/index.js';
import { loginForm } from './forms.js';
import type { CardReads } from '../card-reads/index.js';
import type { AnnouncementService } from '../intranet/index.js';

/** Pages linked from the home page that later work fills in; each answers a plain "not available yet" page. */
export const PLANNED_PAGES: Record<string, string> = {
  '/register': 'home.register',
  '/resend-confirmation': 'home.resend',
  '/forgot-password': 'home.forgot',
  '/delete-registration': 'home.delete',
  '/manual': 'home.setup.manual',
  '/account/device-verification': 'home.service.deviceVerify',
  '/account/devices': 'home.service.deviceManage',
  '/account/profile': 'home.service.profile',
  '/account/password': 'home.service.password',
};

type HomeDeps = { config: Config; clock: Clock; rateLimits: RateLimits; announcements: AnnouncementService; cardReads: CardReads };

export function homeRouter(deps: HomeDeps): { router: Router; citizenRouter: Router } {
  const router = Router();
  const citizenRouter = Router();
  // The home page stays reachable at all hours so it can say when the service is open.
  const homePage = async (req: Request, res: Response, extra: object = {}, status = 200) => {
    const locale = res.locals.locale as Locale;
    const announcements = await deps.announcements.current(locale);
    const open = isWithinServiceHours(deps.config.serviceHours, deps.clock.now());
    render(req, res, 'credentials/home', {
      errorFor,
      env: detectBrowser(req.get('User-Agent')),
      announcements,
      marquee: announcements.filter((a) => a.marquee),
      open,
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
  // Password login arrives with the accounts work; until then the form checks its input and answers that it is not open yet.
  citizenRouter.post('/login', limitByAddress(deps.rateLimits.login), async (req, res) => {
    const form = parseForm(loginForm, req.body, res.locals.t);
    const errors = form.ok ? [] : [...form.errors];
    if (!deps.cardReads.verifiedCard(req, 'login')) errors.unshift({ field: 'card-panel-login', message: res.locals.t('login.error.noCard') });
    if (errors.length) return homePage(req, res, { errors, hasErrors: true }, 400);
    return homePage(req, res, { loginMessage: res.locals.t('home.loginSoon') });
  });
  for (const [path, nameKey] of Object.entries(PLANNED_PAGES)) {
    citizenRouter.get(path, (req, res) => {
      render(req, res, 'errors/unavailable', { nameKey });
    });
  }
  return { router, citizenRouter };
}

