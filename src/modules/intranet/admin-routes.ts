import { Router, type Request, type Response } from 'express';
import { errorFor, formSecret, formText, type FieldError } from '../../platform/forms/index.js';
import { clientAddress } from '../../platform/http/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { render } from '../../platform/views/index.js';
import { TERMINAL_ID } from '../../protocol/index.js';
import { TerminalEnrolmentError } from '../card-reads/index.js';
import type { IntranetParts } from './parts.js';
import { STAFF_ROLES, type StaffRole } from './roles.js';
import { takeStaffNotice } from './routes.js';
import { STAFF_USERNAME, StaffAccountError, staffPasswordError, type StaffChange } from './staff/service.js';

declare module 'express-session' {
  interface SessionData {
    /** What the staff notice names (whose account, which terminal), shown with it once. */
    staffNoticeParams?: Record<string, string>;
  }
}

const STATE_CHANGES = ['disable', 'enable', 'unlock'] as const;
const isRole = (value: string): value is StaffRole => (STAFF_ROLES as readonly string[]).includes(value);

/** A path parameter as text ('' when missing). */
const param = (req: Request, name: string): string => {
  const value = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
};

/** 人員帳號管理 and 臨櫃讀卡端末管理 (paths relative to /intranet): the administrators' pages. */
export function adminRouter(parts: IntranetParts): Router {
  const router = Router();
  const { staff } = parts;
  const terminals = parts.modules.cardReads.terminals;
  const manageStaff = parts.sessions.requirePermission('staff.manage');
  const manageTerminals = parts.sessions.requirePermission('terminals.manage');
  const where = (req: Request) => ({ clientAddress: clientAddress(req) });
  const me = (req: Request) => req.staff!.username;

  const notify = (req: Request, key: string, params: Record<string, string>) => {
    req.session.staffNotice = key;
    req.session.staffNoticeParams = params;
  };
  const takeNotice = (req: Request) => {
    const key = takeStaffNotice(req);
    const params = req.session?.staffNoticeParams ?? {};
    if (req.session) delete req.session.staffNoticeParams;
    return key ? { key, params } : undefined;
  };

  // ---- 人員帳號管理 ----

  const staffPage = async (req: Request, res: Response, errors: FieldError[] = [], status = 200) => {
    const accounts = await staff.list();
    const notice = errors.length ? undefined : takeNotice(req);
    render(req, res, 'intranet/staff/list', { accounts, roles: STAFF_ROLES, me: me(req), notice, errors, hasErrors: errors.length > 0 }, { status });
  };
  router.get('/staff', manageStaff, (req, res) => staffPage(req, res));

  const newPage = (req: Request, res: Response, values: { username?: string; role?: string } = {}, errors: FieldError[] = [], status = 200) => {
    render(req, res, 'intranet/staff/new', { values, roles: STAFF_ROLES, errors, hasErrors: errors.length > 0, errorFor }, { status });
  };
  router.get('/staff/new', manageStaff, (req, res) => newPage(req, res, { role: 'clerk' }));
  router.post('/staff/new', manageStaff, async (req, res) => {
    const t = res.locals.t as Translate;
    const typed = formText(req.body, 'username');
    const username = typed.toLowerCase();
    const role = formText(req.body, 'role');
    const password = formSecret(req.body, 'password');
    const errors: FieldError[] = [];
    if (!STAFF_USERNAME.test(username)) errors.push({ field: 'username', message: t('intranet.staff.error.username') });
    if (!isRole(role)) errors.push({ field: 'role', message: t('intranet.admin.error.role') });
    const problem = staffPasswordError(password, username);
    if (problem) errors.push({ field: 'password', message: t(problem) });
    else if (password !== formSecret(req.body, 'passwordConfirm')) errors.push({ field: 'passwordConfirm', message: t('intranet.admin.error.mismatch') });
    const values = { username: typed, role };
    // (isRole again only so the type knows: a bad role is among the errors already.)
    if (errors.length || !isRole(role)) return newPage(req, res, values, errors, 400);
    try {
      await staff.create({ username, role, password, by: me(req), ...where(req) });
    } catch (err) {
      if (!(err instanceof StaffAccountError)) throw err;
      const field = err.message.startsWith('intranet.password.') ? 'password' : 'username';
      return newPage(req, res, values, [{ field, message: t(err.message) }], 400);
    }
    notify(req, 'intranet.admin.notice.created', { username, role });
    res.redirect(303, '/intranet/staff');
  });

  // 受理重設密碼: for another account only (an admin's own password is changed with the current one, at /password).
  const passwordPage = async (req: Request, res: Response, username: string, errors: FieldError[] = [], status = 200) => {
    const account = await staff.find(username);
    if (!account) return false;
    render(req, res, 'intranet/staff/password', { account, errors, hasErrors: errors.length > 0, errorFor }, { status });
    return true;
  };
  router.get('/staff/:username/password', manageStaff, async (req, res, next) => {
    const username = param(req, 'username');
    if (username === me(req)) return res.redirect(303, '/intranet/password');
    if (!STAFF_USERNAME.test(username) || !(await passwordPage(req, res, username))) return next();
  });
  router.post('/staff/:username/password', manageStaff, async (req, res, next) => {
    const t = res.locals.t as Translate;
    const username = param(req, 'username');
    if (username === me(req)) return res.redirect(303, '/intranet/password');
    if (!STAFF_USERNAME.test(username)) return next();
    const password = formSecret(req.body, 'password');
    const problem = staffPasswordError(password, username);
    const errors: FieldError[] = [];
    if (problem) errors.push({ field: 'password', message: t(problem) });
    else if (password !== formSecret(req.body, 'passwordConfirm')) errors.push({ field: 'passwordConfirm', message: t('intranet.admin.error.mismatch') });
    if (errors.length) return (await passwordPage(req, res, username, errors, 400)) || next();
    const result = await staff.resetPassword(username, password, me(req), where(req));
    if (result === 'not_found') return next();
    if (result === 'own_account') return res.redirect(303, '/intranet/password');
    notify(req, 'intranet.admin.notice.password', { username });
    res.redirect(303, '/intranet/staff');
  });

  // 變更角色, 停用, 啟用, 解除鎖定: each ends that account's sessions (the service moves its epoch on).
  router.post('/staff/:username/:change', manageStaff, async (req, res, next) => {
    const t = res.locals.t as Translate;
    const username = param(req, 'username');
    const asked = param(req, 'change');
    if (!STAFF_USERNAME.test(username)) return next();
    let change: StaffChange;
    if (asked === 'role') {
      const role = formText(req.body, 'role');
      if (!isRole(role)) return staffPage(req, res, [{ field: `role-${username}`, message: t('intranet.admin.error.role') }], 400);
      change = { role };
    } else if ((STATE_CHANGES as readonly string[]).includes(asked)) {
      change = asked as (typeof STATE_CHANGES)[number];
    } else {
      return next();
    }
    const result = await staff.changeByAdmin(username, change, me(req), where(req));
    if (result === 'own_account') return staffPage(req, res, [{ field: `staff-${username}`, message: t('intranet.admin.error.ownAccount') }], 400);
    if (result === 'not_found') return staffPage(req, res, [{ field: 'staff-table', message: t('intranet.admin.error.notFound', { username }) }], 404);
    if (result === 'unchanged') notify(req, 'intranet.admin.notice.unchanged', { username });
    else notify(req, `intranet.admin.notice.${asked}`, typeof change === 'string' ? { username } : { username, role: change.role });
    res.redirect(303, '/intranet/staff');
  });

  // ---- 臨櫃讀卡端末管理 ----

  const terminalsPage = async (req: Request, res: Response, values: Record<string, string> = {}, errors: FieldError[] = [], status = 200) => {
    const list = await terminals.list();
    const notice = errors.length ? undefined : takeNotice(req);
    render(req, res, 'intranet/terminals/list', { terminals: list, values, notice, errors, hasErrors: errors.length > 0, errorFor }, { status });
  };
  const enrolError = (t: Translate, err: TerminalEnrolmentError, terminalId: string): FieldError => ({
    field: err.field,
    message: t(`intranet.terminals.error.${err.problem}`, { terminalId }),
  });
  router.get('/terminals', manageTerminals, (req, res) => terminalsPage(req, res));
  router.post('/terminals', manageTerminals, async (req, res) => {
    const t = res.locals.t as Translate;
    const input = { terminalId: formText(req.body, 'terminalId'), publicKey: formText(req.body, 'publicKey'), label: formText(req.body, 'label') };
    const problems = terminals.problems(input);
    if (problems.length) return terminalsPage(req, res, input, problems.map((err) => enrolError(t, err, input.terminalId)), 400);
    try {
      await terminals.enroll({ ...input, by: me(req), ...where(req) });
    } catch (err) {
      if (!(err instanceof TerminalEnrolmentError)) throw err;
      return terminalsPage(req, res, input, [enrolError(t, err, input.terminalId)], 400);
    }
    notify(req, 'intranet.terminals.notice.enrolled', { terminalId: input.terminalId, label: input.label });
    res.redirect(303, '/intranet/terminals');
  });
  // 撤銷: from now on activeKey is null, so a read the terminal signs is refused.
  router.post('/terminals/:terminalId/revoke', manageTerminals, async (req, res, next) => {
    const terminalId = param(req, 'terminalId');
    if (!TERMINAL_ID.test(terminalId)) return next();
    const revoked = await terminals.revoke(terminalId, me(req), where(req));
    notify(req, revoked ? 'intranet.terminals.notice.revoked' : 'intranet.terminals.notice.notActive', { terminalId });
    res.redirect(303, '/intranet/terminals');
  });

  return router;
}
