import { Router, type Request, type Response } from 'express';
import { maskIdNumber } from '../../platform/audit/index.js';
import { errorFor, formText, type FieldError } from '../../platform/forms/index.js';
import { clientAddress } from '../../platform/http/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import { render } from '../../platform/views/index.js';
import { unitCodeError, type DesignationResult, type UnitSummary } from '../employers/index.js';
import { isValidIdNumber, RegistryUnavailableError } from '../household/index.js';
import type { IntranetParts } from './parts.js';
import { takeStaffNotice } from './routes.js';

/** What the page shows of the current admin: never the full ID number. */
interface AdminView {
  maskedIdNumber: string;
  /** From the household registry: null when it has no such person or could not answer (`registryDown`). */
  name: string | null;
  registryDown: boolean;
  designatedAt: Date;
  designatedBy: string;
}

interface PageData {
  /** The code as typed in the search field. */
  unitCode?: string;
  unit?: UnitSummary;
  admin?: AdminView | null;
  /** The new admin's ID number as typed (shown again after a refusal). */
  idNumber?: string;
  errors?: FieldError[];
  notice?: string;
}

const REFUSALS: Partial<Record<DesignationResult, string>> = {
  not_registered: 'intranet.employers.error.idNumber.notRegistered',
  pending: 'intranet.employers.error.idNumber.pending',
  suspended: 'intranet.employers.error.idNumber.suspended',
};

const NOTICES: Partial<Record<DesignationResult, string>> = {
  designated: 'intranet.employers.designated',
  replaced: 'intranet.employers.replaced',
  unchanged: 'intranet.employers.unchanged',
};

const unitPath = (unitCode: string) => `/intranet/employers?unitCode=${encodeURIComponent(unitCode)}`;

/** 投保單位管理者: a supervisor looks a unit up by its code and designates or replaces its employer-portal admin. */
export function employersRouter(parts: IntranetParts): Router {
  const router = Router();
  const guard = parts.sessions.requirePermission('employers.designate');
  const { enrollments, unitAdmins } = parts.modules.employers;

  const page = (req: Request, res: Response, data: PageData, status = 200) => {
    const errors = data.errors ?? [];
    render(req, res, 'intranet/employers/search', { ...data, errors, hasErrors: errors.length > 0, errorFor }, { status });
  };

  const adminView = async (unitCode: string): Promise<AdminView | null> => {
    const admin = await unitAdmins.adminOf(unitCode);
    if (!admin) return null;
    let name: string | null = null;
    let registryDown = false;
    try {
      name = (await parts.modules.household.registry.findPerson(admin.idNumber))?.name ?? null;
    } catch (err) {
      if (!(err instanceof RegistryUnavailableError)) throw err;
      registryDown = true;
    }
    return { maskedIdNumber: maskIdNumber(admin.idNumber), name, registryDown, designatedAt: admin.designatedAt, designatedBy: admin.designatedBy };
  };

  /** The unit of a code, or the search field's error and its status. */
  const findUnit = async (unitCode: string, t: Translate): Promise<{ unit: UnitSummary } | { error: FieldError; status: number }> => {
    const problem = !unitCode ? 'empty' : unitCodeError(unitCode) ? 'format' : undefined;
    if (problem) return { error: { field: 'unitCode', message: t(`intranet.employers.error.unitCode.${problem}`) }, status: 400 };
    const unit = await enrollments.unit(unitCode);
    return unit ? { unit } : { error: { field: 'unitCode', message: t('intranet.employers.error.unitCode.unknown') }, status: 404 };
  };

  router.get('/employers', guard, async (req, res) => {
    const notice = takeStaffNotice(req);
    if (req.query.unitCode === undefined) return page(req, res, { notice });
    const unitCode = typeof req.query.unitCode === 'string' ? req.query.unitCode.trim() : '';
    const found = await findUnit(unitCode, res.locals.t as Translate);
    if ('error' in found) return page(req, res, { unitCode, errors: [found.error] }, found.status);
    page(req, res, { unitCode, unit: found.unit, admin: await adminView(unitCode), notice });
  });

  router.post('/employers/:unitCode/admin', guard, async (req, res) => {
    const t = res.locals.t as Translate;
    const unitCode = String(req.params.unitCode);
    const found = await findUnit(unitCode, t);
    if ('error' in found) return page(req, res, { unitCode, errors: [found.error] }, found.status);
    const typed = formText(req.body, 'idNumber');
    const idNumber = typed.toUpperCase();
    const refuse = async (key: string, status = 400) =>
      page(req, res, { unitCode, unit: found.unit, admin: await adminView(unitCode), idNumber: typed, errors: [{ field: 'idNumber', message: t(key) }] }, status);
    if (!idNumber) return refuse('intranet.employers.error.idNumber.empty');
    if (!isValidIdNumber(idNumber)) return refuse('intranet.employers.error.idNumber.format');
    const result = await unitAdmins.designate({ unitCode, idNumber, by: req.staff!.username, clientAddress: clientAddress(req) });
    const refusal = REFUSALS[result];
    if (refusal) return refuse(refusal);
    // The unit went away between the lookup and the designation (a new enrolment import).
    if (result === 'no_unit') return page(req, res, { unitCode, errors: [{ field: 'unitCode', message: t('intranet.employers.error.unitCode.unknown') }] }, 404);
    req.session.staffNotice = NOTICES[result];
    res.redirect(303, unitPath(unitCode));
  });

  return router;
}
