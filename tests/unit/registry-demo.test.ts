import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { idNumberError, idNumberKind, sexOfIdNumber } from '../../src/modules/household/index.js';
import { DemoRefusedError, importRegistryFolder, writeDemoRegistry, type DemoRegistryResult } from '../../src/modules/registry/index.js';

const read = (dir: string, file: string): Record<string, string>[] => parse(readFileSync(join(dir, file)), { columns: true });

describe('demo registry generator', () => {
  const root = mkdtempSync(join(tmpdir(), 'nhi-demo-'));
  const dir = join(root, 'a');
  /** The installation's DATA_DIR, holding its demo-secret. */
  const dataDir = join(root, 'data');
  let result: DemoRegistryResult;
  before(async () => {
    result = await writeDemoRegistry({ out: dir, dataDir, persons: 300, seed: 'test' });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('persons have valid, unique ID numbers of all three kinds and real village codes', () => {
    const persons = read(dir, 'persons.csv');
    assert.equal(persons.length, 300);
    assert.equal(new Set(persons.map((p) => p.id_number)).size, 300);
    for (const p of persons) {
      assert.equal(idNumberError(p.id_number!), undefined, p.id_number);
      assert.equal(sexOfIdNumber(p.id_number!), p.sex);
      assert.match(p.household_number!, /^[A-Z0-9]{8}$/);
      assert.match(p.birth_date!, /^\d{4}-\d{2}-\d{2}$/);
    }
    const kinds = new Set(persons.map((p) => idNumberKind(p.id_number!)));
    assert.deepEqual([...kinds].sort(), ['national', 'resident-new', 'resident-old']);
    const villages = new Set(readFileSync(join(import.meta.dirname, '../../data/tw-villages-20230928.csv'), 'utf8').split('\n').map((l) => l.split(',')[0]));
    for (const p of persons) assert.ok(villages.has(p.village_code), p.village_code);
  });

  test('every name is Big5-encodable, and some use rarer characters', () => {
    const names = read(dir, 'persons.csv').map((p) => p.name!);
    for (const name of names) assert.equal(iconv.decode(iconv.encode(name, 'cp950'), 'cp950'), name);
    assert.ok(names.some((n) => /[琍璦璿瑄旻昀玥珮翊禎彧甯嫚堉焜燊鋆霈淼焱垚媗綪珺]/.test(n)));
    assert.ok(names.some((n) => /^[A-Z ]+$/.test(n)), 'some residents have Latin names');
  });

  test('one valid card per person, a few void ones, and enrollments mostly with 示範股份有限公司', () => {
    const persons = read(dir, 'persons.csv');
    const cards = read(dir, 'cards.csv');
    const valid = cards.filter((c) => c.status === 'valid');
    assert.equal(valid.length, 300);
    assert.deepEqual(new Set(valid.map((c) => c.id_number)), new Set(persons.map((p) => p.id_number)));
    assert.ok(cards.some((c) => c.status === 'void'));
    assert.equal(cards.length, result.cards);
    const enrollments = read(dir, 'enrollments.csv');
    const demo = enrollments.filter((e) => e.unit_code === '12345678' && e.unit_name === '示範股份有限公司' && e.insured === '1');
    assert.ok(demo.length > 100 && demo.length < 250, `${demo.length} insured by the demo company`);
    assert.ok(enrollments.some((e) => e.insured === '0'));
  });

  test('simulated-card files match the card registry: same person, and the private key signs for the public key', () => {
    const persons = new Map(read(dir, 'persons.csv').map((p) => [p.id_number, p]));
    const cards = new Map(read(dir, 'cards.csv').map((c) => [c.card_number, c]));
    const files = readdirSync(join(dir, 'cards'));
    assert.equal(files.length, result.cardFiles);
    assert.ok(files.length >= 300);
    for (const file of files.slice(0, 40)) {
      const sim = JSON.parse(readFileSync(join(dir, 'cards', file), 'utf8'));
      assert.deepEqual(Object.keys(sim), ['cardNumber', 'idNumber', 'name', 'birthDate', 'sex', 'issuedOn', 'privateKey', 'household']);
      const card = cards.get(sim.cardNumber)!;
      const person = persons.get(sim.idNumber)!;
      assert.equal(`${sim.cardNumber}.json`, file);
      assert.deepEqual([card.id_number, card.issued_on], [sim.idNumber, sim.issuedOn]);
      assert.deepEqual([person.name, person.birth_date, person.sex], [sim.name, sim.birthDate, sim.sex]);
      // The household note the agent's tray shows, so a demo card can be registered.
      assert.deepEqual([sim.household.householdNumber, sim.household.neighborhood], [person.household_number, Number(person.neighborhood)]);
      assert.match(sim.household.place, /^[\u4e00-\u9fff]+$/);
      assert.equal(Buffer.from(sim.privateKey, 'base64url').length, 32);
      const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: sim.privateKey, x: card.public_key }, format: 'jwk' });
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: card.public_key! }, format: 'jwk' });
      const message = Buffer.from(`card read ${file}`);
      assert.ok(verify(null, message, publicKey, sign(null, message, privateKey)));
    }
  });

  test('in one installation the same seed gives the same files; another seed, other files', async () => {
    const again = join(root, 'b');
    const other = join(root, 'c');
    await writeDemoRegistry({ out: again, dataDir, persons: 300, seed: 'test' });
    await writeDemoRegistry({ out: other, dataDir, persons: 300, seed: 'other' });
    for (const file of ['persons.csv', 'cards.csv', 'enrollments.csv']) {
      assert.ok(readFileSync(join(dir, file)).equals(readFileSync(join(again, file))), file);
      assert.ok(!readFileSync(join(dir, file)).equals(readFileSync(join(other, file))), file);
    }
  });

  test('large data sets get simulated-card files for the first 50 cards only', async () => {
    const large = join(root, 'd');
    const r = await writeDemoRegistry({ out: large, dataDir, persons: 80, seed: 'test', allCardFilesUpTo: 10 });
    assert.equal(r.cardFiles, 50);
    assert.equal(readdirSync(join(large, 'cards')).length, 50);
    assert.ok(r.cardFilesSkipped >= 30);
  });

  test('another installation with the same seed gets the same persons and card numbers but other card keys', async () => {
    const otherInstall = join(root, 'e');
    await writeDemoRegistry({ out: join(otherInstall, 'demo-registry'), dataDir: otherInstall, persons: 300, seed: 'test' });
    assert.ok(readFileSync(join(dir, 'persons.csv')).equals(readFileSync(join(otherInstall, 'demo-registry', 'persons.csv'))));
    const mine = read(dir, 'cards.csv');
    const theirs = read(join(otherInstall, 'demo-registry'), 'cards.csv');
    assert.deepEqual(theirs.map((c) => [c.card_number, c.id_number, c.issued_on, c.status]), mine.map((c) => [c.card_number, c.id_number, c.issued_on, c.status]));
    const keys = (cards: Record<string, string>[]) => cards.filter((c) => c.public_key).map((c) => c.public_key);
    assert.ok(keys(mine).length >= 300);
    assert.deepEqual(keys(theirs).filter((k) => keys(mine).includes(k)), [], 'no public key is shared between the installations');
  });

  test('the demo secret is 32 random bytes in DATA_DIR/demo-secret, readable by its owner only, and kept', async () => {
    const secretFile = join(dataDir, 'demo-secret');
    assert.equal(Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'base64url').length, 32);
    if (process.platform !== 'win32') assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    assert.notEqual(readFileSync(secretFile, 'utf8'), readFileSync(join(root, 'e', 'demo-secret'), 'utf8'));
    const before = readFileSync(secretFile, 'utf8');
    await writeDemoRegistry({ out: join(root, 'f'), dataDir, persons: 5, seed: 'test' });
    assert.equal(readFileSync(secretFile, 'utf8'), before);
  });

  test('with NODE_ENV=production the generator and the import refuse demo data, and write nothing', async () => {
    const out = join(root, 'production');
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await assert.rejects(writeDemoRegistry({ out, dataDir: join(root, 'production-data'), persons: 5 }), DemoRefusedError);
      // Refused before any connection: the address is never used.
      await assert.rejects(importRegistryFolder('postgres://nobody@127.0.0.1:1/none', dir), DemoRefusedError);
    } finally {
      process.env.NODE_ENV = saved;
    }
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(join(root, 'production-data')), false, 'no demo secret is created');
  });

  test('with NODE_ENV=production `npm run registry:demo` and `npm run registry:import` of a demo folder exit 1, saying why', async () => {
    const productionData = join(root, 'production-cli');
    const demo = await cli('src/cli/registry-demo.ts', ['--out', join(productionData, 'out')], productionData);
    assert.equal(demo.code, 1, demo.output);
    assert.match(demo.output, /demo data is never generated or loaded in production/);
    assert.equal(existsSync(productionData), false);

    const imported = await cli('src/cli/registry-import.ts', [dir], productionData);
    assert.equal(imported.code, 1, imported.output);
    assert.match(imported.output, /is a demo registry: demo data is never generated or loaded in production/);
  });
});

async function cli(script: string, args: string[], dataDir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: join(import.meta.dirname, '..', '..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
