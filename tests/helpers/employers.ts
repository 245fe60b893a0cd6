import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { linkTokenHash } from '../../src/platform/tokens/index.js';
import type { TestApp } from './app.js';
import type { BrowserAgent, Page } from './browser-agent.js';
import { insertTestCard, type TestCard } from './card-reads.js';

export { citizenLogIn } from './logins.js';

export const PASSWORD = 'Taipei#2026';
let unitCount = 0;
/** An 8-digit unit code no other test of the run uses. */
export const newUnitCode = (): string => `${String(process.pid % 90 + 10)}${String(++unitCount).padStart(6, '0')}`;
export const UNIT_NAME = '臺北測試股份有限公司';

/** A person with a card and an active registration, made through the registration API (apply, then the mailed link). */
export async function registeredPerson(t: TestApp, options: { name?: string; email?: string } = {}): Promise<{ card: TestCard; email: string }> {
  const card = await insertTestCard(t.services, { name: options.name ?? '王大明' });
  const email = options.email ?? `r${card.sim.idNumber.toLowerCase()}@example.com.tw`;
  const registration = t.services.api.registration.service;
  assert.equal(await registration.apply({
    identity: { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, birthDate: card.sim.birthDate },
    password: PASSWORD, contacts: { email, mobile: '0912345678' }, locale: 'zh-TW', clientAddress: '127.0.0.1',
  }), 'applied');
  const [row] = await t.services.orm.em.fork().getConnection().execute<{ payload: { linkPath: string } }[]>(
    `select payload from outbox_message where template = 'registration-confirmation' and recipient = ? order by created_at desc limit 1`, [email]);
  const token = new URL(row!.payload.linkPath, 'http://x').searchParams.get('token')!;
  const read = { idNumber: card.sim.idNumber, cardNumber: card.sim.cardNumber, name: card.sim.name, readAt: new Date().toISOString() };
  assert.equal(await registration.confirm(linkTokenHash(token), read, { clientAddress: '127.0.0.1' }), 'confirmed');
  return { card, email };
}

/** Enrolment rows: the unit insures (or once insured) these persons. */
export async function enrol(t: TestApp, idNumbers: string[], options: { unitCode: string; insured?: boolean }): Promise<void> {
  const db = t.services.orm.em.fork().getConnection();
  for (const idNumber of idNumbers) {
    await db.execute(`insert into enrollment (id_number, unit_code, unit_name, insured) values (?, ?, ?, ?) on conflict do nothing`, [idNumber, options.unitCode, UNIT_NAME, options.insured ?? true]);
  }
}

/** A new unit, its admin (designated as the counter does) and a clerk with both roles. */
export async function unitWithStaff(t: TestApp) {
  const unit = newUnitCode();
  const admin = await registeredPerson(t, { name: '李管理' });
  const clerk = await registeredPerson(t, { name: '陳承辦' });
  await enrol(t, [admin.card.sim.idNumber, clerk.card.sim.idNumber], { unitCode: unit });
  const employers = t.services.api.employers;
  assert.equal(await employers.unitAdmins.designate({ unitCode: unit, idNumber: admin.card.sim.idNumber, by: 'supervisor', clientAddress: '127.0.0.1' }), 'designated');
  for (const role of ['upload', 'query'] as const) {
    assert.equal(await employers.access.grant({ unitCode: unit, idNumber: clerk.card.sim.idNumber, role, by: admin.card.sim.idNumber, clientAddress: '127.0.0.1' }), 'granted');
  }
  return { unit, admin, clerk };
}

export type Cells = string[];
export const ZH_HEADER = ['身分證號', '姓名', '出生日期', 'E-Mail', '行動電話'];

/** The rows as CSV text (RFC 4180 quoting, CRLF), header first. */
export function csvText(rows: Cells[], header: Cells = ZH_HEADER): string {
  const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  return [header, ...rows].map((cells) => cells.map(quote).join(',')).join('\r\n') + '\r\n';
}

export function asFile(rows: Cells[], form: 'utf-8' | 'utf-8-bom' | 'big5' | 'xlsx', header: Cells = ZH_HEADER): Promise<Buffer> {
  if (form === 'xlsx') return xlsxOf([header, ...rows]);
  const text = csvText(rows, header);
  if (form === 'big5') return Promise.resolve(iconv.encode(text, 'big5'));
  return Promise.resolve(Buffer.from(form === 'utf-8-bom' ? `\ufeff${text}` : text, 'utf8'));
}

async function xlsxOf(rows: Cells[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Sheet1');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Sends the upload form as the browser does (multipart, the token before the file); returns the page it ends on. */
export async function upload(browser: BrowserAgent, unitCode: string, file: Buffer, fileName: string): Promise<Page> {
  const form = await browser.get(`/employer/units/${unitCode}/uploads/new`);
  const csrf = form.$('form.bulk-upload-form input[name="_csrf"]').val() as string;
  const res = await browser.agent.post(`/employer/units/${unitCode}/uploads`).field('_csrf', csrf).attach('file', file, fileName);
  if (res.status === 303) return browser.get(res.headers.location!);
  return { status: res.status, html: res.text, $: (await import('cheerio')).load(res.text), headers: res.headers as Record<string, string>, url: `/employer/units/${unitCode}/uploads` };
}
