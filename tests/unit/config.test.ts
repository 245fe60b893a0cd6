import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseServiceHours } from '../../src/config.js';

test('development defaults follow INTERFACES.md', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.publicOrigin, 'http://localhost:3000');
  assert.equal(c.agentOrigin, 'http://127.0.0.1:7777');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.allowEmbeddedDb, true);
  assert.equal(c.smtpUrl, undefined);
  assert.deepEqual(c.intranetAllow, ['127.0.0.1/8', '::1']);
  assert.equal(c.serviceHours.text, '06:00-24:00');
  assert.equal(c.secureCookies, false);
  assert.match(c.dataDir, /\.data$/);
  assert.deepEqual(c.trustProxy, ['loopback']);
  assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.5' }).trustProxy, ['10.0.0.0/8', '192.168.1.5']);
});

test('the server listens on loopback in development and tests, on every interface in production, unless HOST says', () => {
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), SMTP_URL: 'smtp://mail:25', ALLOW_EMBEDDED_DB: '1' };
  assert.equal(loadConfig({}).host, '127.0.0.1');
  assert.equal(loadConfig({ NODE_ENV: 'test' }).host, '127.0.0.1');
  assert.equal(loadConfig(production).host, '0.0.0.0');
  assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  assert.equal(loadConfig({ ...production, HOST: '10.1.2.3' }).host, '10.1.2.3');
  assert.equal(loadConfig({ HOST: '' }).host, '127.0.0.1', 'a blank HOST is unset');
});

test('production refuses development defaults and names each problem', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), (err: Error) => {
    assert.match(err.message, /SESSION_SECRET is required/);
    assert.match(err.message, /DATABASE_URL is required/);
    assert.match(err.message, /SMTP_URL is required/);
    return true;
  });
  const ok = loadConfig({
    NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), SMTP_URL: 'smtp://mail:25', ALLOW_EMBEDDED_DB: '1',
    PUBLIC_ORIGIN: 'https://register.example.tw/',
  });
  assert.equal(ok.allowEmbeddedDb, true);
  assert.equal(ok.publicOrigin, 'https://register.example.tw');
  assert.equal(ok.secureCookies, true);
});

test('bad values stop the start with every problem listed', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty', SMTP_URL: 'http://x', DATABASE_URL: 'mysql://x' }), (err: Error) => {
    assert.match(err.message, /PORT/);
    assert.match(err.message, /SMTP_URL/);
    assert.match(err.message, /DATABASE_URL/);
    return true;
  });
  assert.throws(() => loadConfig({ SESSION_SECRET: 'short' }), /SESSION_SECRET/);
});

test('service hours parse and reject nonsense', () => {
  assert.deepEqual(parseServiceHours('06:00-24:00'), { start: 360, end: 1440, text: '06:00-24:00' });
  assert.deepEqual(parseServiceHours('00:00-24:00'), { start: 0, end: 1440, text: '00:00-24:00' });
  assert.throws(() => parseServiceHours('24:00-06:00'));
  assert.throws(() => parseServiceHours('6-24'));
  assert.throws(() => parseServiceHours('06:00-25:00'));
});

test('LOGIN_LOCKOUT_ATTEMPTS: 5 by default, a positive whole number otherwise', () => {
  assert.equal(loadConfig({}).loginLockoutAttempts, 5);
  assert.equal(loadConfig({ LOGIN_LOCKOUT_ATTEMPTS: '3' }).loginLockoutAttempts, 3);
  assert.throws(() => loadConfig({ LOGIN_LOCKOUT_ATTEMPTS: '0' }), /LOGIN_LOCKOUT_ATTEMPTS/);
  assert.throws(() => loadConfig({ LOGIN_LOCKOUT_ATTEMPTS: 'five' }), /LOGIN_LOCKOUT_ATTEMPTS/);
});

test('CAPTCHA_FIXED: digits only, and never in production', () => {
  assert.equal(loadConfig({}).captchaFixed, undefined);
  assert.equal(loadConfig({ CAPTCHA_FIXED: '12345' }).captchaFixed, '12345');
  assert.throws(() => loadConfig({ CAPTCHA_FIXED: 'abc' }), /CAPTCHA_FIXED must be 4 to 8 digits/);
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), SMTP_URL: 'smtp://mail:25', ALLOW_EMBEDDED_DB: '1' };
  assert.doesNotThrow(() => loadConfig(production));
  assert.throws(() => loadConfig({ ...production, CAPTCHA_FIXED: '12345' }), /Refusing to start in production:[\s\S]*CAPTCHA_FIXED/);
});

test('DEVICE_CODE_MINUTES: 10 by default, 1 to 60 minutes otherwise', () => {
  assert.equal(loadConfig({}).deviceCodeMs, 10 * 60 * 1000);
  assert.equal(loadConfig({ DEVICE_CODE_MINUTES: '5' }).deviceCodeMs, 5 * 60 * 1000);
  assert.throws(() => loadConfig({ DEVICE_CODE_MINUTES: '0' }), /DEVICE_CODE_MINUTES/);
  assert.throws(() => loadConfig({ DEVICE_CODE_MINUTES: 'ten' }), /DEVICE_CODE_MINUTES/);
});

test('TELECOM_SIM_FILE: optional, an absolute path once read; production starts without it', () => {
  assert.equal(loadConfig({}).telecomSimFile, undefined);
  assert.equal(loadConfig({ TELECOM_SIM_FILE: '/tmp/telecom.json' }).telecomSimFile, '/tmp/telecom.json');
  assert.match(loadConfig({ TELECOM_SIM_FILE: 'data/telecom.json' }).telecomSimFile!, /^\/.*\/data\/telecom\.json$/);
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://db/nhi', SMTP_URL: 'smtp://mail' };
  assert.equal(loadConfig(production).telecomSimFile, undefined);
});

test('DATABASE_POOL_MAX: 10 by default, 2 to 200 otherwise', () => {
  assert.equal(loadConfig({}).databasePoolMax, 10);
  assert.equal(loadConfig({ DATABASE_POOL_MAX: '25' }).databasePoolMax, 25);
  assert.throws(() => loadConfig({ DATABASE_POOL_MAX: '1' }), /DATABASE_POOL_MAX/);
  assert.throws(() => loadConfig({ DATABASE_POOL_MAX: 'many' }), /DATABASE_POOL_MAX/);
});
