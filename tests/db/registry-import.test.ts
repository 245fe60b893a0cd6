import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { entities } from '../../src/entities.js';
import { createOrm, type Orm } from '../../src/platform/db/index.js';
import { importRegistryFolder, writeDemoRegistry, type DemoRegistryResult } from '../../src/modules/registry/index.js';
import { createHouseholdModule, TableHouseholdRegistry } from '../../src/modules/household/index.js';
import { CardRegistry } from '../../src/modules/cards/index.js';
import { EnrollmentRegistry } from '../../src/modules/employers/index.js';
import { createTestDatabase } from '../helpers/db.js';

const now = new Date('2026-03-02T04:00:00Z');
const TABLES = { person: 'id_number', card: 'card_number', enrollment: 'id_number, unit_code' } as const;

describe('registry import', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let orm: Orm;
  const root = mkdtempSync(join(tmpdir(), 'nhi-registry-'));
  const demo = join(root, 'demo');
  let generated: DemoRegistryResult;

  /** Row count and a checksum of every row of each registry table. */
  async function snapshot() {
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const [table, key] of Object.entries(TABLES)) {
      const r = await pool.query(`select count(*)::int as rows, md5(coalesce(string_agg(t::text, '|' order by ${key}), '')) as md5 from ${table} t`);
      out[table] = r.rows[0];
    }
    return out;
  }

  const lines = (file: string) => readFileSync(file, 'utf8').split('\r\n');
  /** A folder holding `files` of the demo set, each line passed through `edit(line, lineNumber)`. */
  function variant(name: string, files: string[], edit: (file: string, line: string, n: number) => string = (_f, l) => l): string {
    const dir = join(root, name);
    for (const file of files) {
      const edited = lines(join(demo, file)).map((l, i) => (l === '' ? l : edit(file, l, i + 1)));
      cpSync(join(demo, file), join(dir, file));
      writeFileSync(join(dir, file), edited.join('\r\n'));
    }
    return dir;
  }
  const field = (line: string, i: number) => line.split(',')[i]!;
  const withField = (line: string, i: number, value: string) => line.split(',').map((v, j) => (j === i ? value : v)).join(',');
  const personLine = (n: number) => lines(join(demo, 'persons.csv'))[n - 1]!;

  before(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    orm = await createOrm({ url: database.url, entities });
    generated = await writeDemoRegistry({ out: demo, dataDir: root, persons: 200, seed: 'db-test' });
  });
  after(async () => {
    await orm.close(true);
    await pool.end();
    await database.drop();
    rmSync(root, { recursive: true, force: true });
  });

  test('the migrations load the administrative divisions', async () => {
    const counts = await pool.query('select (select count(*) from county)::int c, (select count(*) from township)::int t, (select count(*) from village)::int v');
    assert.deepEqual(counts.rows[0], { c: 22, t: 368, v: 7748 });
    const { divisions } = createHouseholdModule({ orm });
    const place = await divisions.findVillage('63000010002');
    assert.deepEqual(place, {
      code: '63000010002', name: '莊敬里', nameEn: 'Zhuangjing Vil.', townshipCode: '63000010',
      township: { code: '63000010', name: '松山區', countyCode: '63000' },
      county: { code: '63000', name: '臺北市' },
    });
    assert.equal((await divisions.townships('63000')).length, 12);
    assert.ok((await divisions.counties()).some((c) => c.code === '10013' && c.name === '屏東縣'));
    assert.ok((await divisions.villages('10013280')).some((v) => v.code === '10013280006' && v.name === '三和村'));
    assert.equal(await divisions.villageExists('63000010002'), true);
    assert.equal(await divisions.villageExists('63000010999'), false);
  });

  test('importing the demo data set twice leaves the same rows', async () => {
    const first = await importRegistryFolder(database.url, demo, { now });
    assert.equal(first.rejected, undefined);
    assert.deepEqual(first.imported.map((r) => [r.file, r.read, r.inserted, r.updated]), [
      ['persons.csv', 200, 200, 0],
      ['cards.csv', generated.cards, generated.cards, 0],
      ['enrollments.csv', generated.enrollments, generated.enrollments, 0],
    ]);
    const before = await snapshot();
    assert.deepEqual([before.person!.rows, before.card!.rows, before.enrollment!.rows], [200, generated.cards, generated.enrollments]);

    const second = await importRegistryFolder(database.url, demo, { now });
    assert.deepEqual(second.imported.map((r) => [r.file, r.inserted, r.updated, r.unchanged]), [
      ['persons.csv', 0, 0, 200],
      ['cards.csv', 0, 0, generated.cards],
      ['enrollments.csv', 0, 0, generated.enrollments],
    ]);
    assert.deepEqual(await snapshot(), before);
  });

  /** Imports `dir` expecting persons.csv rejected at `line` for `reason`, with no table changed. */
  async function expectRejected(dir: string, rejected: { file: string; line: number; reason: string }) {
    const before = await snapshot();
    const result = await importRegistryFolder(database.url, dir, { now });
    assert.deepEqual(result.rejected, rejected);
    assert.deepEqual(await snapshot(), before);
    return result;
  }
  // Each bad file also renames the person of line 2, to show that the rows before the bad one are not applied either.
  const renameLine2 = (line: string, n: number) => (n === 2 ? withField(line, 1, '改名測試') : line);

  test('a wrong check digit rejects the file with its line number; nothing of the file is applied', async () => {
    const dir = variant('bad-check-digit', ['persons.csv', 'cards.csv'], (file, line, n) => {
      if (file !== 'persons.csv') return line;
      if (n !== 101) return renameLine2(line, n);
      const id = field(line, 0);
      return withField(line, 0, id.slice(0, 9) + ((Number(id[9]) + 1) % 10));
    });
    const result = await expectRejected(dir, { file: 'persons.csv', line: 101, reason: 'id_number: wrong check digit' });
    assert.deepEqual(result.imported, []);
  });

  test('an unknown village code rejects the file', async () => {
    const dir = variant('bad-village', ['persons.csv'], (_f, line, n) => (n === 57 ? withField(line, 5, '63000010999') : renameLine2(line, n)));
    await expectRejected(dir, { file: 'persons.csv', line: 57, reason: 'village_code: 63000010999 is not a known village' });
  });

  test('an impossible date rejects the file', async () => {
    const dir = variant('bad-date', ['persons.csv'], (_f, line, n) => (n === 188 ? withField(line, 2, '2023-02-30') : renameLine2(line, n)));
    await expectRejected(dir, { file: 'persons.csv', line: 188, reason: 'birth_date: 2023-02-30 is not a real calendar date' });
  });

  test('a key twice in one file rejects the file at the second occurrence', async () => {
    const id20 = field(personLine(20), 0);
    const dir = variant('duplicate', ['persons.csv'], (_f, line, n) =>
      n === 150 ? withField(withField(line, 0, id20), 1, '重複') : renameLine2(line, n));
    await expectRejected(dir, { file: 'persons.csv', line: 150, reason: 'duplicate id_number (first at line 20)' });
  });

  test('malformed CSV and a wrong header are rejected with their line', async () => {
    const quote = variant('bad-quote', ['persons.csv'], (_f, line, n) => (n === 5 ? withField(line, 1, '"王"小明') : line));
    const r1 = await expectRejected(quote, { file: 'persons.csv', line: 5, reason: (await reasonOf(quote)) });
    assert.match(r1.rejected!.reason, /^malformed CSV: /);
    const header = variant('bad-header', ['persons.csv'], (_f, line, n) => (n === 1 ? line.replace('neighborhood', 'neighbourhood') : line));
    const r2 = await expectRejected(header, { file: 'persons.csv', line: 1, reason: (await reasonOf(header)) });
    assert.match(r2.rejected!.reason, /^the header must be "id_number,name,birth_date,sex,household_number,village_code,neighborhood"/);
  });
  test('line numbers count empty lines, and a record with a line break is refused at the line it starts on', async () => {
    const dir = join(root, 'lines');
    const write = (rows: string[]) => {
      cpSync(join(demo, 'persons.csv'), join(dir, 'persons.csv'));
      writeFileSync(join(dir, 'persons.csv'), [personLine(1), ...rows, ''].join('\n'));
    };
    write([personLine(2), '', personLine(3), withField(personLine(4), 2, '2023-02-29')]);
    await expectRejected(dir, { file: 'persons.csv', line: 5, reason: 'birth_date: 2023-02-29 is not a real calendar date' });
    write([personLine(2), '', withField(personLine(3), 1, '"王\n小明"'), withField(personLine(4), 2, '2023-02-29')]);
    await expectRejected(dir, { file: 'persons.csv', line: 4, reason: 'name: contains a line break' });
  });

  async function reasonOf(dir: string) {
    return (await importRegistryFolder(database.url, dir, { now })).rejected?.reason ?? 'accepted';
  }

  test('changed rows are updated', async () => {
    const dir = variant('rename', ['persons.csv'], (_f, line, n) => (n === 10 ? withField(line, 1, '林璿新名') : line));
    const result = await importRegistryFolder(database.url, dir, { now });
    assert.deepEqual(result.imported.map((r) => [r.inserted, r.updated, r.unchanged]), [[0, 1, 199]]);
    const { registry } = createHouseholdModule({ orm });
    const person = await registry.findPerson(field(personLine(10), 0));
    assert.equal(person?.name, '林璿新名');
  });

  test('a card of an unknown person rejects cards.csv; persons.csv before it stays applied', async () => {
    const newcomer = 'A123456789,新來的,1990-01-31,M,F1234567,63000010002,5';
    const dir = variant('unknown-holder', ['persons.csv', 'cards.csv', 'enrollments.csv'], (file, line, n) =>
      file === 'cards.csv' && n === 30 ? withField(line, 1, 'Z100000002') : line);
    writeFileSync(join(dir, 'persons.csv'), `${readFileSync(join(dir, 'persons.csv'), 'utf8')}${newcomer}\r\n`);
    const cardsBefore = (await snapshot()).card;
    const result = await importRegistryFolder(database.url, dir, { now });
    assert.deepEqual(result.rejected, {
      file: 'cards.csv', line: 30, reason: 'id_number: no such person in the household registry (import persons.csv first)',
    });
    assert.deepEqual(result.imported.map((r) => [r.file, r.inserted]), [['persons.csv', 1]]);
    assert.deepEqual((await snapshot()).card, cardsBefore);
    const { registry } = createHouseholdModule({ orm });
    assert.deepEqual(await registry.findPerson('A123456789'), {
      idNumber: 'A123456789', name: '新來的', birthDate: '1990-01-31', sex: 'M', householdNumber: 'F1234567', villageCode: '63000010002', neighborhood: 5,
    });
  });

  test('the registries answer from the imported rows', async () => {
    const cardLines = lines(join(demo, 'cards.csv')).slice(1).filter(Boolean).map((l) => l.split(','));
    const [cardNumber, idNumber, issuedOn, , publicKey] = cardLines.find((c) => c[3] === 'valid')!;
    const cards = new CardRegistry(orm);
    assert.deepEqual(await cards.findByNumber(cardNumber!), { cardNumber, idNumber, issuedOn, status: 'valid', publicKey });
    const voided = cardLines.find((c) => c[3] === 'void')!;
    assert.equal((await cards.findByNumber(voided[0]!))?.status, 'void');
    assert.equal(await cards.findByNumber('999999999999'), null);

    const { registry } = createHouseholdModule({ orm });
    const [id, , , , householdNumber, villageCode, neighborhood] = personLine(3).split(',');
    const facts = { idNumber: id!, householdNumber: householdNumber!, villageCode: villageCode!, neighborhood: Number(neighborhood) };
    assert.equal(await registry.check(facts), 'match');
    assert.equal(await registry.check({ ...facts, neighborhood: facts.neighborhood + 1 }), 'mismatch');
    assert.equal(await registry.check({ ...facts, villageCode: '63000010002' === villageCode ? '63000010003' : '63000010002' }), 'mismatch');
    assert.equal(await registry.check({ ...facts, idNumber: 'Z100000002' }), 'mismatch');

    const enrollments = new EnrollmentRegistry(orm);
    const enrollmentLines = lines(join(demo, 'enrollments.csv')).slice(1).filter(Boolean).map((l) => l.split(','));
    const insured = enrollmentLines.find((e) => e[3] === '1')!;
    const former = enrollmentLines.find((e) => e[3] === '0')!;
    assert.equal(await enrollments.isCurrentlyInsured(insured[0]!, insured[1]!), true);
    assert.equal(await enrollments.isCurrentlyInsured(former[0]!, former[1]!), false);
    assert.equal(await enrollments.isCurrentlyInsured(insured[0]!, '99999999'), false);
  });

  test('the household check answers "unavailable" when the registry cannot be reached', async () => {
    const closed = await createOrm({ url: database.url, entities });
    await closed.close(true);
    const registry = new TableHouseholdRegistry(closed);
    const [id, , , , householdNumber, villageCode, neighborhood] = personLine(3).split(',');
    assert.equal(await registry.check({ idNumber: id!, householdNumber: householdNumber!, villageCode: villageCode!, neighborhood: Number(neighborhood) }), 'unavailable');
  });
});
