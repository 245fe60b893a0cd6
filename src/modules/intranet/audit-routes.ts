import { Router, type Request, type Response } from 'express';
import {
  AUDIT_CSV_COLUMNS,
  AUDIT_OUTCOMES,
  formatPosition,
  parsePosition,
  searchAudit,
  writeAuditCsv,
  type AuditEvent,
  type AuditFilter,
} from '../../platform/audit/index.js';
import { errorFor, type FieldError } from '../../platform/forms/index.js';
import { clientAddress } from '../../platform/http/index.js';
import { nextTaipeiDay, taipeiCompactDate, taipeiDayStart, type Translate } from '../../platform/i18n/index.js';
import { render } from '../../platform/views/index.js';
import type { IntranetParts } from './parts.js';

const PAGE_SIZE = 50;
const EXPORT_LIMIT = 100_000;
const ID_NUMBER = /^[A-Z][A-Z0-9]\d{8}$/;
/** AuditLog.personKey's shape: HMAC-SHA-256 in base64url. */
const PERSON_KEY = /^[A-Za-z0-9_-]{43}$/;
const MAX_TEXT = 64;
const ACTOR_TYPES = new Set(['citizen', 'staff', 'employer', 'system', 'anonymous', 'device']);

/** The criteria a search URL carries (the full ID number is never one of them: it becomes personKey). */
const FILTER_FIELDS = ['personKey', 'staff', 'action', 'from', 'to', 'outcome'] as const;
type Values = Record<(typeof FILTER_FIELDS)[number] | 'person', string>;

function queryText(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value.trim() : '';
}

function queryValues(req: Request): Values {
  const values = { person: queryText(req, 'person') } as Values;
  for (const name of FILTER_FIELDS) values[name] = queryText(req, name);
  return values;
}

/** The criteria as a query string (empty ones left out), plus `extra` (the page position). */
function searchQuery(values: Values, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  for (const name of FILTER_FIELDS) if (values[name]) query.set(name, values[name]);
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return text ? `?${text}` : '';
}

function parseFilter(values: Values, t: Translate): { filter: AuditFilter; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const filter: AuditFilter = {};
  if (values.person) errors.push({ field: 'person', message: t('intranet.audit.error.person') });
  else if (values.personKey) {
    if (PERSON_KEY.test(values.personKey)) filter.subjectKey = values.personKey;
    else errors.push({ field: 'person', message: t('intranet.audit.error.personKey') });
  }
  if (values.staff.length > MAX_TEXT) errors.push({ field: 'staff', message: t('intranet.audit.error.staff') });
  else if (values.staff) filter.staff = values.staff;
  if (values.action.length > MAX_TEXT) errors.push({ field: 'action', message: t('intranet.audit.error.action') });
  else if (values.action) filter.action = values.action;
  const from = values.from ? taipeiDayStart(values.from) : undefined;
  const to = values.to ? taipeiDayStart(values.to) : undefined;
  if (from === null) errors.push({ field: 'from', message: t('intranet.audit.error.from') });
  if (to === null) errors.push({ field: 'to', message: t('intranet.audit.error.to') });
  else if (to && from && to < from) errors.push({ field: 'to', message: t('intranet.audit.error.range') });
  if (from) filter.from = from;
  if (to) filter.until = nextTaipeiDay(to);
  if (values.outcome) {
    const outcome = AUDIT_OUTCOMES.find((known) => known === values.outcome);
    if (outcome) filter.outcome = outcome;
    else errors.push({ field: 'outcome', message: t('intranet.audit.error.outcome') });
  }
  return { filter, errors };
}

/** What a row shows: its detail as `key: value` lines (the template escapes them). */
function displayRow(row: AuditEvent) {
  return {
    occurredAt: row.occurredAt,
    actorType: row.actorType,
    actorTypeKnown: ACTOR_TYPES.has(row.actorType),
    actorId: row.actorId ?? '',
    action: row.action,
    subject: row.subject ?? '',
    outcome: row.outcome,
    outcomeKnown: (AUDIT_OUTCOMES as readonly string[]).includes(row.outcome),
    clientAddress: row.clientAddress ?? '',
    detail: Object.entries(row.detail ?? {}).map(([key, value]) => `${key}: ${value === null ? '' : String(value)}`),
  };
}

/** 稽核紀錄查詢: search the audit log and export it as CSV (supervisors and admins). */
export function auditRouter(parts: IntranetParts): Router {
  const router = Router();
  const allowed = parts.sessions.requirePermission('audit.view');

  const searchPage = (req: Request, res: Response, values: Values, data: { errors?: FieldError[]; page?: Awaited<ReturnType<typeof searchAudit>> }, status = 200) => {
    const errors = data.errors ?? [];
    const rows = data.page?.rows ?? [];
    const first = rows[0];
    const last = rows.at(-1);
    render(
      req,
      res,
      'intranet/audit/search',
      {
        values,
        errors,
        hasErrors: errors.length > 0,
        errorFor,
        searched: !!data.page,
        rows: rows.map(displayRow),
        outcomes: AUDIT_OUTCOMES,
        personActive: !!values.personKey && !values.person && !errorFor(errors, 'person'),
        clearPersonHref: `/intranet/audit${searchQuery({ ...values, personKey: '' })}`,
        newerHref: data.page?.hasNewer && first ? `/intranet/audit${searchQuery(values, { after: formatPosition(first) })}` : null,
        olderHref: data.page?.hasOlder && last ? `/intranet/audit${searchQuery(values, { before: formatPosition(last) })}` : null,
        exportHref: `/intranet/audit/export.csv${searchQuery(values)}`,
        exportLimit: EXPORT_LIMIT.toLocaleString('en-US'),
      },
      { status },
    );
  };

  /** A full ID number sent by the form is swapped for its key before anything else: it stays out of URLs and logs. */
  const redirectedWithoutIdNumber = (res: Response, path: string, values: Values): boolean => {
    const idNumber = values.person.toUpperCase();
    if (!idNumber || !ID_NUMBER.test(idNumber)) return false;
    res.redirect(303, `${path}${searchQuery({ ...values, personKey: parts.audit.personKey(idNumber) })}`);
    return true;
  };

  router.get('/audit', allowed, async (req, res) => {
    const values = queryValues(req);
    if (redirectedWithoutIdNumber(res, '/intranet/audit', values)) return;
    const { filter, errors } = parseFilter(values, res.locals.t as Translate);
    if (errors.length) return searchPage(req, res, values, { errors }, 400);
    const page = await searchAudit(parts.orm.em.fork(), filter, {
      before: parsePosition(queryText(req, 'before')),
      after: parsePosition(queryText(req, 'after')),
      size: PAGE_SIZE,
    });
    searchPage(req, res, values, { page });
  });

  router.get('/audit/export.csv', allowed, async (req, res, next) => {
    const t = res.locals.t as Translate;
    const values = queryValues(req);
    if (redirectedWithoutIdNumber(res, '/intranet/audit/export.csv', values)) return;
    const { filter, errors } = parseFilter(values, t);
    if (errors.length) return searchPage(req, res, values, { errors }, 400);

    res.status(200);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="audit-${taipeiCompactDate(parts.clock.now())}.csv"`);
    // Honour backpressure, so a slow download holds one batch in memory, not the whole log.
    const write = (text: string) =>
      new Promise<boolean>((resolve) => {
        if (res.destroyed) return resolve(false);
        if (res.write(text)) return resolve(true);
        const settle = () => {
          res.off('drain', settle);
          res.off('close', settle);
          resolve(!res.destroyed);
        };
        res.on('drain', settle);
        res.on('close', settle);
      });
    try {
      const done = await writeAuditCsv(parts.orm.em.fork(), filter, write, {
        header: AUDIT_CSV_COLUMNS.map((column) => t(`intranet.audit.csv.${column}`)),
        limit: EXPORT_LIMIT,
        cappedNote: t('intranet.audit.csv.capped', { limit: EXPORT_LIMIT.toLocaleString('en-US') }),
      });
      await parts.audit.recordNow(parts.orm.em.fork(), {
        actorType: 'staff',
        actorId: req.staff!.username,
        action: 'audit.export',
        outcome: done.stopped ? 'failure' : 'success',
        clientAddress: clientAddress(req),
        detail: {
          // The person criterion is kept as the digest the search used: the export row never holds an ID number.
          personDigest: filter.subjectKey,
          staff: filter.staff,
          action: filter.action,
          from: values.from || undefined,
          to: values.to || undefined,
          outcome: filter.outcome,
          rows: done.rows,
          capped: done.capped,
          abandoned: done.stopped || undefined,
        },
      });
      res.end();
    } catch (err) {
      if (!res.headersSent) return next(err);
      // A cut-off download must not look complete: break the connection rather than end the file.
      parts.log(`audit export failed: ${err instanceof Error ? err.message : String(err)}`);
      res.destroy();
    }
  });

  return router;
}
