import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseForm, errorFor, type FieldError } from '../../platform/forms/index.js';
import { clientAddress } from '../../platform/http/index.js';
import { parseTaipeiTime, taipeiTimeText, type Translate } from '../../platform/i18n/index.js';
import { render } from '../../platform/views/index.js';
import { BODY_MAX, TITLE_MAX, type AnnouncementInput, type StaffAnnouncement } from '../announcements/index.js';
import type { IntranetParts } from './parts.js';
import { takeStaffNotice } from './routes.js';

const LIST = '/intranet/announcements';
/** A Taipei time field: '' is null (allowed only where `required` is not given), anything else must parse. */
function taipeiTimeField(field: string, required?: string) {
  return z
    .string()
    .trim()
    .default('')
    .transform((text, ctx) => {
      if (!text) {
        if (required) ctx.addIssue({ code: 'custom', message: required });
        return null;
      }
      const at = parseTaipeiTime(text);
      if (!at) ctx.addIssue({ code: 'custom', message: `intranet.announcements.error.${field}.format` });
      return at;
    });
}

/** Optional plain text: '' is null; a textarea's CRLF line breaks count as one character, as the browser counts them. */
const optionalText = (max: number, message: string) =>
  z
    .string()
    .default('')
    .transform((text) => text.replace(/\r\n?/g, '\n').trim())
    .pipe(z.string().max(max, message))
    .transform((text) => text || null);

const announcementForm = z
  .object({
    titleZh: z
      .string({ message: 'intranet.announcements.error.titleZh.required' })
      .trim()
      .min(1, 'intranet.announcements.error.titleZh.required')
      .max(TITLE_MAX, 'intranet.announcements.error.titleZh.length'),
    titleEn: optionalText(TITLE_MAX, 'intranet.announcements.error.titleEn.length'),
    bodyZh: optionalText(BODY_MAX, 'intranet.announcements.error.bodyZh.length'),
    bodyEn: optionalText(BODY_MAX, 'intranet.announcements.error.bodyEn.length'),
    marquee: z.unknown().optional().transform((value) => typeof value === 'string' && value !== ''),
    publishFrom: taipeiTimeField('publishFrom', 'intranet.announcements.error.publishFrom.required'),
    publishUntil: taipeiTimeField('publishUntil'),
  })
  .refine((form) => !form.publishFrom || !form.publishUntil || form.publishUntil > form.publishFrom, {
    path: ['publishUntil'],
    message: 'intranet.announcements.error.publishUntil.order',
    // Checked beside the other fields' problems, once both times have parsed.
    when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'publishFrom' || issue.path?.[0] === 'publishUntil'),
  });

/** What the form shows: the announcement's fields as text, or what was typed. */
type FormValues = Record<string, string>;

const formValues = (row: StaffAnnouncement): FormValues => ({
  titleZh: row.titleZh,
  titleEn: row.titleEn ?? '',
  bodyZh: row.bodyZh ?? '',
  bodyEn: row.bodyEn ?? '',
  ...(row.marquee ? { marquee: 'on' } : {}),
  publishFrom: taipeiTimeText(row.publishFrom),
  publishUntil: row.publishUntil ? taipeiTimeText(row.publishUntil) : '',
});

const notFound = () => Object.assign(new Error('no such announcement'), { status: 404 });

/** The announcement id in the path, or undefined for anything that is not one. */
function announcementId(req: Request): number | undefined {
  const text = String(req.params.id ?? '');
  const id = /^[1-9]\d{0,9}$/.test(text) ? Number(text) : NaN;
  return id <= 2_147_483_647 ? id : undefined;
}

/** 公告管理: list, new, edit and 下架 of the home page's announcements (paths relative to /intranet). */
export function announcementsRouter(parts: IntranetParts): Router {
  const router = Router();
  const service = parts.modules.announcements.announcements;
  const allowed = parts.sessions.requirePermission('announcements.manage');
  const actor = (req: Request) => ({ username: req.staff!.username, clientAddress: clientAddress(req) });

  const formPage = (req: Request, res: Response, page: { editing?: StaffAnnouncement; values: FormValues; errors?: FieldError[] }, status = 200) => {
    const errors = page.errors ?? [];
    render(req, res, 'intranet/announcements/form', {
      editing: page.editing,
      action: page.editing ? `${LIST}/${page.editing.id}/edit` : `${LIST}/new`,
      values: page.values,
      errors,
      hasErrors: errors.length > 0,
      errorFor,
      example: taipeiTimeText(parts.clock.now()),
    }, { status });
  };

  /** Parses the posted form; on a problem answers 400 with the form as typed and returns undefined. */
  const readForm = (req: Request, res: Response, editing?: StaffAnnouncement): AnnouncementInput | undefined => {
    const form = parseForm(announcementForm, req.body, res.locals.t as Translate);
    if (form.ok) return { ...form.value, publishFrom: form.value.publishFrom! };
    formPage(req, res, { editing, values: form.values, errors: form.errors }, 400);
    return undefined;
  };

  router.get('/announcements', allowed, async (req, res) => {
    render(req, res, 'intranet/announcements/list', { announcements: await service.list(), notice: takeStaffNotice(req) });
  });

  router.get('/announcements/new', allowed, (req, res) => {
    formPage(req, res, { values: { publishFrom: taipeiTimeText(parts.clock.now()) } });
  });

  router.post('/announcements/new', allowed, async (req, res) => {
    const input = readForm(req, res);
    if (!input) return;
    await service.create(input, actor(req));
    req.session.staffNotice = 'intranet.announcements.notice.created';
    res.redirect(303, LIST);
  });

  router.get('/announcements/:id/edit', allowed, async (req, res) => {
    const id = announcementId(req);
    const editing = id ? await service.find(id) : null;
    if (!editing) throw notFound();
    formPage(req, res, { editing, values: formValues(editing) });
  });

  router.post('/announcements/:id/edit', allowed, async (req, res) => {
    const id = announcementId(req);
    const editing = id ? await service.find(id) : null;
    if (!editing) throw notFound();
    const input = readForm(req, res, editing);
    if (!input) return;
    if (!(await service.update(editing.id, input, actor(req)))) throw notFound();
    req.session.staffNotice = 'intranet.announcements.notice.updated';
    res.redirect(303, LIST);
  });

  router.post('/announcements/:id/retire', allowed, async (req, res) => {
    const id = announcementId(req);
    const result = id ? await service.retire(id, actor(req)) : null;
    if (!result) throw notFound();
    req.session.staffNotice = result === 'retired' ? 'intranet.announcements.notice.retired' : 'intranet.announcements.notice.alreadyRetired';
    res.redirect(303, LIST);
  });

  return router;
}
