import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { idCheckDigit } from '../../src/modules/household/index.js';
import type { Services } from '../../src/services.js';

/**
 * 健保卡註冊申請整批資料上傳 end to end: a file of `rows` employees (one in ten refused) checked and taken in (this
 * process, as the upload's request), then its job run by a worker process of its own (every row checked against the
 * registries, the accepted ones registered with their link and 認證信 queued, the result file written and mailed).
 * Peak RSS is the worker's own high-water mark, so the bench's seeding does not count in it.
 */
export async function benchBulkUpload(services: Services, rows: number): Promise<{ rows: number; acceptSeconds: number; processSeconds: number; totalSeconds: number; peakRssMb: number; accepted: number }> {
  const unitCode = '99000001';
  const ids = Array.from({ length: rows }, (_v, i) => {
    const prefix = `C1${String(i).padStart(7, '0')}`;
    return `${prefix}${idCheckDigit(prefix)}`;
  });
  const db = services.orm.em.fork().getConnection();
  for (let start = 0; start < rows; start += 20_000) {
    const json = JSON.stringify(ids.slice(start, start + 20_000).map((id, i) => ({ id, card: `8${String(start + i).padStart(11, '0')}` })));
    await db.execute(`insert into person (id_number, name, birth_date, sex, household_number, village_code, neighborhood)
      select r.id, '員工' || substr(r.id, 3), '1980-01-31', 'M', 'F1234567', '63000010002', 1 from json_to_recordset(?::json) as r(id text, card text)`, [json]);
    await db.execute(`insert into card (card_number, id_number, issued_on, status, public_key) select r.card, r.id, '2015-06-01', 'valid', null from json_to_recordset(?::json) as r(id text, card text)`, [json]);
    await db.execute(`insert into enrollment (id_number, unit_code, unit_name, insured) select r.id, ?, '基準測試公司', true from json_to_recordset(?::json) as r(id text, card text)`, [unitCode, json]);
  }
  const lines = ids.map((id, i) => `${id},員工${id.slice(2)},0690131,${i % 10 === 9 ? 'not-mail' : `e${i}@example.com.tw`},0912345678`);
  const uploads = services.api.employers.uploads;
  const { storedName, path } = uploads.newFilePath();
  writeFileSync(path, `身分證號,姓名,出生日期,E-Mail,行動電話\r\n${lines.join('\r\n')}\r\n`);

  const started = performance.now();
  const accepted = await uploads.accept({ unitCode, clerk: { idNumber: ids[0]!, name: '人資', email: 'hr@example.com.tw' }, fileName: 'bench.csv', storedName, locale: 'zh-TW', clientAddress: '127.0.0.1' });
  if (!accepted.ok) throw new Error(`the bench file was refused: ${JSON.stringify(accepted.problem)}`);
  const acceptedAt = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bulk-worker.ts')], {
    env: { ...process.env, DATABASE_URL: services.databaseUrl, DATA_DIR: services.config.dataDir, SESSION_SECRET: 'b'.repeat(40), LOG_LEVEL: 'silent' },
    maxBuffer: 1024 * 1024,
  });
  const worker = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; peakRssMb: number };
  const upload = (await uploads.find(accepted.id))!;
  if (upload.status !== 'done' || upload.processedRows !== rows) throw new Error(`the job did not finish: ${upload.status} at ${upload.processedRows}`);
  return {
    rows,
    acceptSeconds: (acceptedAt - started) / 1000,
    processSeconds: worker.seconds,
    totalSeconds: (acceptedAt - started) / 1000 + worker.seconds,
    peakRssMb: worker.peakRssMb,
    accepted: upload.accepted,
  };
}
