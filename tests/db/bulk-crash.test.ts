import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { idCheckDigit } from '../../src/modules/household/index.js';
import { useTestApp, type TestApp } from '../helpers/app.js';
import { csvText, newUnitCode } from '../helpers/employers.js';

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ROWS = 50_000;

/** The registries for ROWS employees of one unit, in three statements. */
async function seedEmployees(t: TestApp, unitCode: string): Promise<string[]> {
  const ids = Array.from({ length: ROWS }, (_v, i) => {
    const prefix = `B1${String(i).padStart(7, '0')}`;
    return `${prefix}${idCheckDigit(prefix)}`;
  });
  const db = t.services.orm.em.fork().getConnection();
  const json = JSON.stringify(ids.map((id, i) => ({ id, card: `9${String(i).padStart(11, '0')}` })));
  await db.execute(`insert into person (id_number, name, birth_date, sex, household_number, village_code, neighborhood)
    select r.id, '員工' || substr(r.id, 3), '1980-01-31', 'M', 'F1234567', '63000010002', 1 from json_to_recordset(?::json) as r(id text, card text)`, [json]);
  await db.execute(`insert into card (card_number, id_number, issued_on, status, public_key)
    select r.card, r.id, '2015-06-01', 'valid', null from json_to_recordset(?::json) as r(id text, card text)`, [json]);
  await db.execute(`insert into enrollment (id_number, unit_code, unit_name, insured)
    select r.id, ?, '大型測試公司', true from json_to_recordset(?::json) as r(id text, card text)`, [unitCode, json]);
  return ids;
}

/** `npm run serve` as its own process on the test's database and data folder. */
function startServer(t: TestApp): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: t.databaseUrl,
      DATA_DIR: t.dataDir,
      JOB_STALE_SECONDS: '2',
      // Mail stays queued: no server listens there (delivery is not what this test is about).
      SMTP_URL: 'smtp://127.0.0.1:9',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

// Killing the app in the middle of a large upload's job and starting it again completes the job: every row
// processed once, every 認證信 queued once (a batch's results, registrations, links and mails commit together).
describe('a bulk upload survives its process being killed', () => {
  const t = useTestApp();

  test(`${ROWS.toLocaleString('en')} rows: killed mid-job, started again, every row once and every mail once`, { timeout: 240_000 }, async () => {
    const unitCode = newUnitCode();
    const ids = await seedEmployees(t, unitCode);
    // Every tenth row has a bad e-mail address, so the job has rejections to record as well.
    const rows = ids.map((id, i) => [id, `員工${id.slice(2)}`, '0690131', i % 10 === 9 ? 'not-mail' : `e${i}@example.com.tw`, '']);
    const uploads = t.services.api.employers.uploads;
    const { storedName, path } = uploads.newFilePath();
    writeFileSync(path, `\ufeff${csvText(rows)}`);
    const accepted = await uploads.accept({
      unitCode, clerk: { idNumber: ids[0]!, name: '人資承辦', email: 'hr@example.com.tw' }, fileName: 'all-staff.csv', storedName, locale: 'zh-TW', clientAddress: '127.0.0.1',
    });
    assert.ok(accepted.ok, JSON.stringify(accepted));
    const progress = async () => (await uploads.find(accepted.id))!;

    const first = startServer(t);
    const started = Date.now();
    while ((await progress()).processedRows === 0) {
      assert.ok(Date.now() - started < 90_000, 'the job never started');
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await progress();
    assert.ok(atKill.processedRows > 0 && atKill.processedRows < ROWS, `killed mid-job (at ${atKill.processedRows} rows)`);
    assert.equal(atKill.status, 'processing');

    const second = startServer(t);
    try {
      while ((await progress()).status !== 'done') {
        assert.ok(Date.now() - started < 200_000, `the job did not finish after the restart (at ${(await progress()).processedRows})`);
        await sleep(200);
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    const done = await progress();
    assert.deepEqual({ processed: done.processedRows, accepted: done.accepted, rejected: done.rejected }, { processed: ROWS, accepted: ROWS * 0.9, rejected: ROWS * 0.1 });
    const db = t.services.orm.em.fork().getConnection();
    const [counts] = await db.execute(`select count(*)::int as rows, count(distinct line)::int as lines from bulk_upload_row where upload_id = ?`, [accepted.id]);
    assert.deepEqual(counts, { rows: ROWS, lines: ROWS }, 'every row once');
    const [registrations] = await db.execute(`select count(*)::int as n from registration where via_unit = ? and state = 'pending' and needs_password`, [unitCode]);
    assert.equal(registrations.n, ROWS * 0.9);
    const [mails] = await db.execute(
      `select count(*)::int as n, count(distinct recipient)::int as recipients from outbox_message where template = 'registration-activation' and idempotency_key like ?`, [`registration-activation:${accepted.id}:%`]);
    assert.deepEqual(mails, { n: ROWS * 0.9, recipients: ROWS * 0.9 }, 'every 認證信 once');
    const [result] = await db.execute(`select count(*)::int as n from outbox_message where template = 'bulk-upload-result' and recipient = 'hr@example.com.tw'`);
    assert.equal(result.n, 1, 'one result mail');
  });
});
