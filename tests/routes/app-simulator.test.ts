import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BrowserAgent } from '../helpers/browser-agent.js';
import { listen } from '../helpers/chromium.js';
import { testIdNumber } from '../helpers/card-reads.js';
import { generateDeviceCode } from '../helpers/devices.js';
import { logIn, PASSWORD, registerActive, startLoginSite, type LoginSite } from '../helpers/logins.js';

const root = join(import.meta.dirname, '..', '..');

// `npm run app`: the stand-in for the NHI app, against the real app on a port.
describe('the app simulator', () => {
  let site: LoginSite;
  let server: Awaited<ReturnType<typeof listen>>;
  const dir = mkdtempSync(join(tmpdir(), 'nhi-app-sim-'));
  const state = join(dir, 'phone.json');
  // 行動電話認證's person, listed by the simulated operator before the start (it reads TELECOM_SIM_FILE once).
  const phonePerson = { idNumber: testIdNumber('F'), cardNumber: `0000${String(Date.now()).slice(-8)}`, mobile: '0911222333' };
  before(async () => {
    const simFile = join(dir, 'telecom.json');
    writeFileSync(simFile, JSON.stringify([{ mobile: phonePerson.mobile, idNumber: phonePerson.idNumber, kind: 'postpaid' }]));
    site = await startLoginSite({ TELECOM_SIM_FILE: simFile });
    server = await listen(site.t.app);
  });
  after(async () => {
    await server?.close();
    await site?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const app = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/app.ts', ...args, '--server', server.origin, '--state', state], { cwd: root });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  };

  test('binds with a code from the web page, logs in, lists the device; the token is kept in a private file', async () => {
    const person = await registerActive(site);
    const browser = new BrowserAgent(site.t.app);
    await logIn(site, browser, person.card, PASSWORD);
    const { code } = await generateDeviceCode(browser);
    assert.equal((await app('devices')).code, 1, 'nothing before login');
    const bound = await app('bind', code);
    assert.equal(bound.code, 0, bound.out);
    assert.match(bound.out, /\*\*\*\*/);
    assert.equal(statSync(state).mode & 0o777, 0o600);
    const again = await app('bind', code);
    assert.equal(again.code, 1);
    assert.match(again.out, /400 invalid_code/);
    const wrong = await app('login', '--id', person.card.sim.idNumber, '--password', 'Wrong#0000');
    assert.match(wrong.out, /401 invalid_credentials/);
    const login = await app('login', '--id', person.card.sim.idNumber, '--password', PASSWORD);
    assert.equal(login.code, 0, login.out);
    const devices = await app('devices');
    assert.equal(devices.code, 0, devices.out);
    assert.match(devices.out, /^active\tAndroid\tNHI app simulator\t/m);
    assert.ok(JSON.parse(readFileSync(state, 'utf8')).deviceToken);
  });

  test('phone-verify registers and binds in one call; after login, devices lists the phone', async () => {
    const db = site.t.services.orm.em.fork().getConnection();
    await db.execute(`insert into person (id_number, name, birth_date, sex, household_number, village_code, neighborhood) values (?, '林小華', '1990-05-05', 'F', 'F7654321', '63000010002', 1)`, [phonePerson.idNumber]);
    await db.execute(`insert into card (card_number, id_number, issued_on, status, public_key) values (?, ?, '2020-01-01', 'valid', null)`, [phonePerson.cardNumber, phonePerson.idNumber]);
    const verified = await app('phone-verify', '--mobile', phonePerson.mobile, '--id', phonePerson.idNumber, '--card-last4', phonePerson.cardNumber.slice(-4), '--password', 'Tainan#2031');
    assert.equal(verified.code, 0, verified.out);
    assert.match(verified.out, /registered and bound: .{6}\*\*\*\*/);
    const login = await app('login', '--id', phonePerson.idNumber, '--password', 'Tainan#2031');
    assert.equal(login.code, 0, login.out);
    const devices = await app('devices');
    assert.equal(devices.code, 0, devices.out);
    assert.match(devices.out, /^active\tAndroid\tNHI app simulator\t/m);
  });

  test('without a command it prints the usage and exits 2', async () => {
    const usage = await app();
    assert.equal(usage.code, 2);
    assert.match(usage.out, /npm run app -- bind CODE/);
  });
});
