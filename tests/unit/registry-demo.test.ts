import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { idNumberError, idNumberKind, sexOfIdNumber } from '../../src/modules/household/index.js';
import { writeDemoRegistry, type DemoRegistryResult } from '../../src/platform/registry-import/index.js';

const read = (dir: string, file: string): Record<string, string>[] => parse(readFileSync(join(dir, file)), { columns: true });

describe('demo registry generator', () => {
  const root = mkdtempSync(join(tmpdir(), 'nhi-demo-'));
  const dir = join(root, 'a');
  let result: DemoRegistryResult;
  before(async () => {
    result = await writeDemoRegistry({ out: dir, persons: 300, seed: 'test' });
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
      assert.deepEqual(Object.keys(sim), ['cardNumber', 'idNumber', 'name', 'birthDate', 'sex', 'issuedOn', 'privateKey']);
      const card = cards.get(sim.cardNumber)!;
      const person = persons.get(sim.idNumber)!;
      assert.equal(`${sim.cardNumber}.json`, file);
      assert.deepEqual([card.id_number, card.issued_on], [sim.idNumber, sim.issuedOn]);
      assert.deepEqual([person.name, person.birth_date, person.sex], [sim.name, sim.birthDate, sim.sex]);
      assert.equal(Buffer.from(sim.privateKey, 'base64url').length, 32);
      const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: sim.privateKey, x: card.public_key }, format: 'jwk' });
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: card.public_key! }, format: 'jwk' });
      const message = Buffer.from(`card read ${file}`);
      assert.ok(verify(null, message, publicKey, sign(null, message, privateKey)));
    }
  });

  test('the same seed gives the same files; another seed, other files', async () => {
    const again = join(root, 'b');
    const other = join(root, 'c');
    await writeDemoRegistry({ out: again, persons: 300, seed: 'test' });
    await writeDemoRegistry({ out: other, persons: 300, seed: 'other' });
    for (const file of ['persons.csv', 'cards.csv', 'enrollments.csv']) {
      assert.ok(readFileSync(join(dir, file)).equals(readFileSync(join(again, file))), file);
      assert.ok(!readFileSync(join(dir, file)).equals(readFileSync(join(other, file))), file);
    }
  });

  test('large data sets get simulated-card files for the first 50 cards only', async () => {
    const large = join(root, 'd');
    const r = await writeDemoRegistry({ out: large, persons: 80, seed: 'test', allCardFilesUpTo: 10 });
    assert.equal(r.cardFiles, 50);
    assert.equal(readdirSync(join(large, 'cards')).length, 50);
    assert.ok(r.cardFilesSkipped >= 30);
  });
});
