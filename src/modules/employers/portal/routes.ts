import { createReadStream } from 'node:fs';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { maskIdNumber } from '../../../platform/audit/index.js';
import { errorFor, formText, type FieldError } from '../../../platform/forms/index.js';
import { clientAddress, limitByAddress, receiveFile, type RateLimits } from '../../../platform/http/index.js';
import type { Locale, Translate } from '../../../platform/i18n/index.js';
import { isFragmentRequest, render } from '../../../platform/views/index.js';
import type { LoginUser } from '../../credentials/index.js';
import { isValidIdNumber, type HouseholdRegistry } from '../../household/index.js';
import type { RegistrationService } from '../../registration/index.js';
import { EMPLOYER_ROLES, type EmployerRole } from '../entities/employer-role.js';
import { BULK_ROW_RESULTS, type BulkRowResult, type BulkUpload } from '../entities/bulk-upload.js';
import { resultContentType, type BulkUploads } from '../bulk/service.js';
import type { EmployerAccess, UnitAccess } from './access.js';

export const EMPLOYER_UPLOAD_PATH = /^\/employer\/units\/\d{8}\/uploads$/;
const UNIT_CODE = /^\d{8}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ROWS_PER_PAGE = 100;

declare module 'express-session' {
  interface SessionData {
    /** A one-time notice for the next employer page (message key). */
    employerNotice?: string;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** What the logged-in person may do for the unit in the path (set by the unit check). */
      unit?: UnitAccess;
    }
  }
}

export interface PortalDeps {
  access: EmployerAccess;
  uploads: BulkUploads;
  registration: RegistrationService;
  household: HouseholdRegistry;
  rateLimits: RateLimits;
  maxBytes: number;
  maxRows: number;
  requireLogin: RequestHandler;
  currentPerson(req: Request): LoginUser | undefined;
}

/**
 * The employer portal (多憑證網路承保作業, under /employer): a registered person logged in with card + password acts for
 * the units they are admin of or were granted roles in: 健保卡註冊申請整批資料上傳, 健保卡註冊申請上傳紀錄查詢, 角色管理.
 */
export function employerRouter(deps: PortalDeps): Router {
  const router = Router();
  const person = (req: Request) => deps.currentPerson(req)!;
  const where = (req: Request) => ({ clientAddress: clientAddress(req) });
  const takeNotice = (req: Request) => {
    const notice = req.session?.employerNotice;
    if (notice) delete req.session.employerNotice;
    return notice;
  };

  router.use('/employer', deps.requireLogin);

  router.get('/employer', async (req, res) => {
    const units = await deps.access.unitsOf(person(req).idNumber);
    if (units.length === 1) return res.redirect(303, `/employer/units/${units[0]!.unitCode}`);
    render(req, res, 'employers/units', { units });
  });

  /** The unit in the path, if the person acts for it with `need` (admin: the unit's admin). */
  const forUnit = (need: EmployerRole | 'admin' | 'any'): RequestHandler => async (req, res, next) => {
    const unitCode = String(req.params.unitCode);
    const unit = UNIT_CODE.test(unitCode) ? await deps.access.accessTo(person(req).idNumber, unitCode) : undefined;
    if (!unit) return render(req, res, 'employers/forbidden', { reasonKey: 'employers.forbidden.unit' }, { status: 403 });
    const allowed = need === 'any' || (need === 'admin' ? unit.admin : unit.roles.has(need));
    if (!allowed) return render(req, res, 'employers/forbidden', { reasonKey: need === 'admin' ? 'employers.forbidden.admin' : `employers.forbidden.role.${need}`, unit }, { status: 403 });
    req.unit = unit;
    res.locals.unit = unit;
    next();
  };

  // The menu opens for anyone acting for the unit; what it lists follows their roles.
  router.get('/employer/units/:unitCode', forUnit('any'), (req, res) => {
    render(req, res, 'employers/menu', { notice: takeNotice(req) });
  });

  // 角色管理 ---------------------------------------------------------------------------------------------------------
  const rolesPage = async (req: Request, res: Response, errors: FieldError[] = [], values: Record<string, string> = {}, status = 200) => {
    const clerks = (await deps.access.clerks(req.unit!.unitCode)).map((clerk) => ({ ...clerk, maskedId: maskIdNumber(clerk.idNumber) }));
    render(req, res, 'employers/roles', { clerks, roles: EMPLOYER_ROLES, errors, hasErrors: errors.length > 0, errorFor, values, notice: takeNotice(req) }, { status });
  };
  router.get('/employer/units/:unitCode/roles', forUnit('admin'), (req, res) => rolesPage(req, res));
  router.post('/employer/units/:unitCode/roles', forUnit('admin'), limitByAddress(deps.rateLimits.accountSteps), async (req, res) => {
    const t = res.locals.t as Translate;
    const idNumber = formText(req.body, 'idNumber').toUpperCase();
    const role = formText(req.body, 'role') as EmployerRole;
    const errors: FieldError[] = [];
    if (!isValidIdNumber(idNumber)) errors.push({ field: 'idNumber', message: t('employers.roles.error.idNumber') });
    if (!EMPLOYER_ROLES.includes(role)) errors.push({ field: 'role', message: t('employers.roles.error.role') });
    if (errors.length) return rolesPage(req, res, errors, { idNumber, role }, 400);
    const result = await deps.access.grant({ unitCode: req.unit!.unitCode, idNumber, role, by: person(req).idNumber, ...where(req) });
    if (result === 'not_registered' || result === 'self') {
      return rolesPage(req, res, [{ field: 'idNumber', message: t(`employers.roles.error.${result}`) }], { idNumber, role }, 400);
    }
    req.session.employerNotice = result === 'granted' ? 'employers.roles.granted' : 'employers.roles.unchanged';
    res.redirect(303, `/employer/units/${req.unit!.unitCode}/roles`);
  });
  router.post('/employer/units/:unitCode/roles/revoke', forUnit('admin'), async (req, res) => {
    const idNumber = formText(req.body, 'idNumber').toUpperCase();
    const role = formText(req.body, 'role') as EmployerRole;
    const done = EMPLOYER_ROLES.includes(role) && (await deps.access.revoke({ unitCode: req.unit!.unitCode, idNumber, role, by: person(req).idNumber, ...where(req) }));
    req.session.employerNotice = done ? 'employers.roles.revoked' : 'employers.roles.unchanged';
    res.redirect(303, `/employer/units/${req.unit!.unitCode}/roles`);
  });

  // 健保卡註冊申請整批資料上傳 ------------------------------------------------------------------------------------------
  const clerkOf = async (req: Request) => {
    const idNumber = person(req).idNumber;
    const [account, record] = await Promise.all([deps.registration.account(idNumber), deps.household.findPerson(idNumber).catch(() => null)]);
    return { idNumber, name: record?.name ?? maskIdNumber(idNumber), email: account?.email ?? '' };
  };
  const uploadPage = async (req: Request, res: Response, errors: FieldError[] = [], status = 200) => {
    render(req, res, 'employers/upload', {
      clerk: await clerkOf(req),
      maxMegabytes: Math.round(deps.maxBytes / 1024 / 1024),
      maxRows: deps.maxRows,
      errors,
      hasErrors: errors.length > 0,
      errorFor,
    }, { status });
  };
  router.get('/employer/units/:unitCode/uploads/new', forUnit('upload'), (req, res) => uploadPage(req, res));

  // Multipart: exempt from the CSRF middleware (it cannot read this body), so the token is checked here, before any byte is kept.
  router.post('/employer/units/:unitCode/uploads', forUnit('upload'), limitByAddress(deps.rateLimits.accountSteps), async (req, res) => {
    const t = res.locals.t as Translate;
    const clerk = await clerkOf(req);
    if (!clerk.email) return uploadPage(req, res, [{ field: 'file', message: t('employers.upload.error.noEmail') }], 400);
    const { storedName, path } = deps.uploads.newFilePath();
    const csrf = res.locals.csrf as { accepts(token: string): boolean };
    const received = await receiveFile(req, { path, maxBytes: deps.maxBytes, fileField: 'file', allow: (fields) => csrf.accepts(fields._csrf ?? '') });
    if (!received.ok) {
      if (received.problem === 'refused') return render(req, res, 'errors/csrf', {}, { status: 403 });
      const key = received.problem === 'too_large' ? 'employers.upload.error.tooLarge' : 'employers.upload.error.noFile';
      return uploadPage(req, res, [{ field: 'file', message: t(key, { mb: Math.round(deps.maxBytes / 1024 / 1024) }) }], received.problem === 'too_large' ? 413 : 400);
    }
    const accepted = await deps.uploads.accept({
      unitCode: req.unit!.unitCode,
      clerk,
      fileName: received.file.clientName,
      storedName,
      locale: res.locals.locale as Locale,
      ...where(req),
    });
    if (!accepted.ok) {
      const problem = accepted.problem;
      const message = problem.problem === 'header'
        ? t('employers.upload.error.header', { found: problem.found.join(', ') || '—' })
        : problem.problem === 'too_many_rows'
          ? t('employers.upload.error.too_many_rows', { limit: problem.limit.toLocaleString('en') })
          : problem.problem === 'malformed'
            ? t('employers.upload.error.malformed', { line: problem.line })
            : t(`employers.upload.error.${problem.problem}`);
      return uploadPage(req, res, [{ field: 'file', message }], 400);
    }
    res.redirect(303, `/employer/uploads/${accepted.id}`);
  });

  // 健保卡註冊申請上傳紀錄查詢: a clerk their own uploads, the admin every upload of the unit.
  router.get('/employer/units/:unitCode/uploads', forUnit('query'), async (req, res) => {
    const unit = req.unit!;
    const uploads = await deps.uploads.list(unit.unitCode, unit.admin ? undefined : person(req).idNumber);
    render(req, res, 'employers/uploads', { uploads, showClerk: unit.admin });
  });

  /** The upload in the path, if this person may see it: its own clerk, or the unit's admin. */
  const visibleUpload = async (req: Request, res: Response): Promise<BulkUpload | undefined> => {
    const id = String(req.params.id);
    const upload = UUID.test(id) ? await deps.uploads.find(id) : null;
    const unit = upload ? await deps.access.accessTo(person(req).idNumber, upload.unitCode) : undefined;
    if (!upload || !unit || (!unit.admin && upload.clerkIdNumber !== person(req).idNumber)) {
      render(req, res, 'employers/forbidden', { reasonKey: 'employers.forbidden.upload' }, { status: upload ? 403 : 404 });
      return undefined;
    }
    res.locals.unit = unit;
    return upload;
  };

  const progressOf = (upload: BulkUpload) => ({
    done: upload.status === 'done' || upload.status === 'failed',
    percent: upload.totalRows ? Math.floor((upload.processedRows / upload.totalRows) * 100) : 100,
  });

  router.get('/employer/uploads/:id', async (req, res) => {
    const upload = await visibleUpload(req, res);
    if (!upload) return;
    const progress = progressOf(upload);
    // The poll's answer: the progress box while it runs; once done, the whole page again with the results.
    if (isFragmentRequest(req) && req.get('HX-Target') === 'upload-progress') {
      if (progress.done) return res.set('HX-Refresh', 'true').status(204).end();
      return render(req, res, 'employers/_progress', { upload, progress });
    }
    const result = BULK_ROW_RESULTS.includes(String(req.query.result) as BulkRowResult) ? (String(req.query.result) as BulkRowResult) : undefined;
    const afterLine = Math.max(0, Number.parseInt(String(req.query.after ?? '0'), 10) || 0);
    const rows = progress.done ? await deps.uploads.rows(upload.id, { result, afterLine, limit: ROWS_PER_PAGE + 1 }) : [];
    const more = rows.length > ROWS_PER_PAGE;
    render(req, res, 'employers/upload-status', {
      upload,
      progress,
      rows: rows.slice(0, ROWS_PER_PAGE),
      result: result ?? '',
      nextAfter: more ? rows[ROWS_PER_PAGE - 1]!.line : undefined,
      firstPage: afterLine === 0,
      // Without JavaScript the page reloads itself until the job is done.
      refreshSeconds: progress.done ? undefined : 3,
    });
  });

  router.get('/employer/uploads/:id/result', async (req, res) => {
    const upload = await visibleUpload(req, res);
    if (!upload) return;
    if (upload.status !== 'done') return render(req, res, 'employers/forbidden', { reasonKey: 'employers.upload.notDone' }, { status: 409 });
    // attachment() sets a type from the extension; the file's own charset comes after it.
    res.attachment(deps.uploads.resultName(upload));
    res.set('Content-Type', resultContentType(upload));
    createReadStream(deps.uploads.resultPath(upload)).on('error', () => res.destroy()).pipe(res);
  });

  return router;
}
