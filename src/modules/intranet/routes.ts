import { Router, type Request, type Response } from 'express';
import { clientAddress, limitByAddress, type RateLimits } from '../../platform/http/index.js';
import { errorFor, formSecret, formText, type FieldError } from '../../platform/forms/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { render } from '../../platform/views/index.js';
import { staffPasswordError, type StaffService } from './staff/service.js';
import type { StaffSessions } from './staff/sessions.js';

declare module 'express-session' {
  interface SessionData {
    /** A one-time notice for the next staff page (message key). */
    staffNotice?: string;
  }
}

const LOGIN_NOTICES: Record<string, string> = {
  required: 'intranet.login.required',
  ended: 'intranet.login.ended',
  'logged-out': 'intranet.login.loggedOut',
};

/** The staff notice set before a redirect, shown once. */
export function takeStaffNotice(req: Request): string | undefined {
  const notice = req.session?.staffNotice;
  if (notice) delete req.session.staffNotice;
  return notice;
}

/** 登入, 登出, the menu and the staff member's own password (paths relative to /intranet). */
export function staffRouter(deps: { service: StaffService; sessions: StaffSessions; rateLimits: RateLimits }): Router {
  const router = Router();
  const { sessions } = deps;

  const loginPage = (req: Request, res: Response, extra: { errors?: FieldError[]; username?: string } = {}, status = 200) => {
    const notice = typeof req.query.login === 'string' ? LOGIN_NOTICES[req.query.login] : undefined;
    render(req, res, 'intranet/login', { errors: extra.errors ?? [], hasErrors: !!extra.errors?.length, errorFor, username: extra.username, notice }, { status });
  };
  router.get('/login', (req, res) => (req.staff ? res.redirect(303, '/intranet') : loginPage(req, res)));
  router.post('/login', limitByAddress(deps.rateLimits.login), async (req, res) => {
    const t = res.locals.t as Translate;
    const username = formText(req.body, 'username');
    const errors: FieldError[] = [];
    if (!username) errors.push({ field: 'username', message: t('intranet.login.error.username') });
    if (!formText(req.body, 'password')) errors.push({ field: 'password', message: t('intranet.login.error.password') });
    if (errors.length) return loginPage(req, res, { errors, username }, 400);
    const user = await sessions.authenticate(req, res);
    // One answer for a wrong password, an unknown, locked or disabled account: nothing to learn by trying.
    if (!user) return loginPage(req, res, { errors: [{ field: 'password', message: t('intranet.login.error.wrong') }], username }, 400);
    await sessions.logIn(req, user);
    res.redirect(303, '/intranet');
  });

  router.post('/logout', async (req, res, next) => {
    if (req.staff) await deps.service.recordLogout(req.staff.username, { clientAddress: clientAddress(req) });
    if (!req.session) return res.redirect(303, '/intranet/login?login=logged-out');
    req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/intranet/login?login=logged-out')));
  });

  router.use(sessions.requireStaff);

  router.get('/', (req, res) => {
    render(req, res, 'intranet/menu', { notice: takeStaffNotice(req) });
  });

  const passwordPage = (req: Request, res: Response, errors: FieldError[] = [], status = 200) => {
    render(req, res, 'intranet/password', { errors, hasErrors: errors.length > 0, errorFor }, { status });
  };
  router.get('/password', (req, res) => passwordPage(req, res));
  router.post('/password', limitByAddress(deps.rateLimits.login), async (req, res) => {
    const t = res.locals.t as Translate;
    const user = req.staff!;
    const text = (name: string) => formSecret(req.body, name);
    const errors: FieldError[] = [];
    if (!text('current')) errors.push({ field: 'current', message: t('intranet.password.error.current') });
    const problem = staffPasswordError(text('password'), user.username);
    if (problem) errors.push({ field: 'password', message: t(problem) });
    else if (text('password') !== text('passwordConfirm')) errors.push({ field: 'passwordConfirm', message: t('intranet.password.error.mismatch') });
    if (errors.length) return passwordPage(req, res, errors, 400);
    const changed = await deps.service.changePassword(user, text('current'), text('password'), { clientAddress: clientAddress(req) });
    if (changed === 'wrong_current') return passwordPage(req, res, [{ field: 'current', message: t('intranet.password.error.wrongCurrent') }], 400);
    sessions.keep(req, changed);
    req.session.staffNotice = 'intranet.password.done';
    res.redirect(303, '/intranet');
  });

  return router;
}
