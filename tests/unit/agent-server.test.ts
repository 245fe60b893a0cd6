import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { cardKeyPairFromSeed, generateSeed, publicKeyFromBase64url, startAgent, type RunningAgent } from '../../src/agent/index.js';

const SERVER = 'http://localhost:3000';
const OTHER = 'https://other.example'; // a second server the same agent may serve
const REQ = 'req_123-abcdefghijklmnopqrstuvwx'; // 32 base64url characters, like the server's 24 random bytes
const RETURN = `${SERVER}/card-reads/${REQ}`;
const CHALLENGE = Buffer.alloc(32, 7).toString('base64url');
const seed = generateSeed();
const simCard = {
  cardNumber: '000012345678',
  idNumber: 'A123456789',
  name: '王小明',
  birthDate: '1980-01-31',
  sex: 'M',
  issuedOn: '2015-06-01',
  privateKey: seed.toString('base64url'),
};

let agent: RunningAgent;
let demoDir: string;

before(async () => {
  demoDir = mkdtempSync(join(tmpdir(), 'agent-demo-'));
  writeFileSync(join(demoDir, 'lin.json'), JSON.stringify({ ...simCard, cardNumber: '000098765432', name: '林堃', sex: 'F' }));
  writeFileSync(join(demoDir, 'broken.json'), '{"name":');
  agent = await startAgent({ sim: true, port: 0, allowOrigins: [SERVER], demoCardsDir: demoDir, simReadDelayMs: 150, log: () => {} });
});
after(async () => {
  await agent.close();
  rmSync(demoDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await fetch(`${agent.url}/sim/card`, { method: 'DELETE' });
});

const insert = (card: object = simCard) =>
  fetch(`${agent.url}/sim/card`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(card) });

function readRequest(fields: Record<string, string> = {}, headers: Record<string, string> = { Origin: SERVER }) {
  const body = new URLSearchParams({ req: REQ, challenge: CHALLENGE, return: RETURN, lang: 'zh-TW', ...fields });
  return fetch(`${agent.url}/v1/read`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
function hidden(html: string, name: string): string | undefined {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  return m ? unescape(m[1]!) : undefined;
}
const formAction = (html: string) => unescape(/<form method="post" action="([^"]*)">/.exec(html)?.[1] ?? '');

test('listens on 127.0.0.1 with the ephemeral port it reports', () => {
  assert.ok(agent.port > 0);
  assert.equal(agent.url, `http://127.0.0.1:${agent.port}`);
});

test('status as JSON', async () => {
  let res = await fetch(`${agent.url}/v1/status`, { headers: { Accept: 'application/json' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /application\/json/);
  assert.deepEqual(await res.json(), { reader: true, card: false, version: '0.1.0', mode: 'sim' });
  await insert();
  res = await fetch(`${agent.url}/v1/status`, { headers: { Accept: 'application/json' } });
  assert.equal(((await res.json()) as { card: boolean }).card, true);
});

test('status as an HTMX fragment, with CORS for the allowed origin only', async () => {
  await insert();
  let res = await fetch(`${agent.url}/v1/status`, { headers: { 'HX-Request': 'true', Origin: SERVER } });
  const html = await res.text();
  assert.doesNotMatch(html, /<html/i);
  assert.match(html, /讀卡機已連接.*Reader connected/);
  assert.match(html, /已插入健保卡.*Card inserted/);
  assert.equal(res.headers.get('access-control-allow-origin'), SERVER);
  assert.match(res.headers.get('vary')!, /Origin/);
  assert.match(res.headers.get('vary')!, /HX-Request/);
  res = await fetch(`${agent.url}/v1/status`, { headers: { 'HX-Request': 'true', Origin: 'https://evil.example' } });
  assert.equal(res.headers.get('access-control-allow-origin'), null);
});

test('status as a self-refreshing page that only allowed origins may frame', async () => {
  const res = await fetch(`${agent.url}/v1/status`);
  const html = await res.text();
  assert.match(html, /<html lang="zh-TW">/);
  assert.match(html, /<meta http-equiv="refresh" content="3">/);
  assert.match(html, /請插入健保卡/);
  assert.match(res.headers.get('content-security-policy')!, new RegExp(`frame-ancestors ${SERVER}(;|$)`));
  assert.equal(res.headers.get('x-frame-options'), null);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const other = await fetch(`${agent.url}/`);
  assert.match(other.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
  assert.equal(other.headers.get('x-frame-options'), 'DENY');
});

test('CORS preflight: allowed origin with private network access, others refused', async () => {
  let res = await fetch(`${agent.url}/v1/status`, {
    method: 'OPTIONS',
    headers: {
      Origin: SERVER,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'hx-request, hx-current-url, hx-target, hx-trigger',
      'Access-Control-Request-Private-Network': 'true',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), SERVER);
  assert.equal(res.headers.get('access-control-allow-private-network'), 'true');
  const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase();
  for (const h of ['hx-request', 'hx-current-url', 'hx-target', 'hx-trigger']) assert.ok(allowed.includes(h), h);

  res = await fetch(`${agent.url}/v1/status`, { method: 'OPTIONS', headers: { Origin: SERVER, 'Access-Control-Request-Method': 'GET' } });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-private-network'), null);

  res = await fetch(`${agent.url}/v1/status`, {
    method: 'OPTIONS',
    headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Private-Network': 'true' },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal(res.headers.get('access-control-allow-private-network'), null);
});

test('a read returns a self-submitting page with a verifiable assertion', async () => {
  assert.equal((await insert()).status, 204);
  const before = Math.floor(Date.now() / 1000);
  const res = await readRequest();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const html = await res.text();
  assert.match(html, /王○明/);
  assert.doesNotMatch(html, /王小明/);
  assert.match(html, /繼續/);
  assert.equal(formAction(html), RETURN);
  assert.equal(hidden(html, 'req'), REQ);
  assert.equal(hidden(html, 'error'), undefined);
  const assertion = hidden(html, 'assertion')!;

  // The inline script is allowed by its hash only.
  const script = /<script>([^<]*)<\/script>/.exec(html)![1]!;
  const hash = (await import('node:crypto')).createHash('sha256').update(script).digest('base64');
  const csp = res.headers.get('content-security-policy')!;
  assert.ok(csp.includes(`script-src 'sha256-${hash}'`), csp);
  assert.match(csp, new RegExp(`form-action ${SERVER}`));

  const { publicKey } = cardKeyPairFromSeed(seed);
  const { payload, protectedHeader } = await compactVerify(assertion, publicKeyFromBase64url(publicKey));
  assert.deepEqual(protectedHeader, { alg: 'EdDSA', kid: 'card:000012345678', typ: 'JWT' });
  const claims = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(claims.v, 1);
  assert.equal(claims.req, REQ);
  assert.equal(claims.challenge, CHALLENGE);
  assert.equal(claims.aud, SERVER);
  assert.ok(claims.iat >= before && claims.iat <= Math.floor(Date.now() / 1000));
  assert.deepEqual(claims.card, {
    number: '000012345678',
    idNumber: 'A123456789',
    name: '王小明',
    birthDate: '1980-01-31',
    sex: 'M',
    issuedOn: '2015-06-01',
  });
  // Another key does not verify it.
  await assert.rejects(compactVerify(assertion, cardKeyPairFromSeed(generateSeed()).publicKeyObject));
  assert.equal(decodeProtectedHeader(assertion).kid, 'card:000012345678');
});

test('the page speaks English when asked', async () => {
  await insert();
  const html = await (await readRequest({ lang: 'en' })).text();
  assert.match(html, /<html lang="en">/);
  assert.match(html, /Continue/);
  assert.doesNotMatch(html, /繼續/);
});

test('origin or Referer outside the allow-list: 403, nothing read', async () => {
  await insert();
  for (const headers of [
    { Origin: 'https://evil.example' },
    { Origin: 'null' },
    { Referer: 'https://evil.example/page' },
    {} as Record<string, string>,
  ]) {
    const res = await readRequest({}, headers);
    assert.equal(res.status, 403, JSON.stringify(headers));
    const html = await res.text();
    assert.equal(hidden(html, 'assertion'), undefined);
    assert.doesNotMatch(html, /<form/);
  }
  // Referer of an allowed origin is accepted when Origin is absent.
  assert.equal((await readRequest({}, { Referer: `${SERVER}/register` })).status, 200);
});

test('return URL outside the allow-list: 403', async () => {
  await insert();
  for (const ret of [`https://evil.example/card-reads/${REQ}`, `http://localhost:3001/card-reads/${REQ}`, 'javascript:alert(1)', '']) {
    const res = await readRequest({ return: ret });
    assert.equal(res.status, 403, ret);
    assert.doesNotMatch(await res.text(), /<form/);
  }
});

test('malformed req or challenge: 400', async () => {
  await insert();
  for (const fields of <Array<Record<string, string>>>[
    { req: '' },
    { req: 'a'.repeat(101) },
    { req: REQ.slice(1), return: `${SERVER}/card-reads/${REQ.slice(1)}` },
    { req: `${REQ}a`, return: `${SERVER}/card-reads/${REQ}a` },
    { req: 'bad id' },
    { req: '<script>' },
    { challenge: CHALLENGE.slice(0, 42) },
    { challenge: `${CHALLENGE}+/` },
  ]) {
    const res = await readRequest(fields);
    assert.equal(res.status, 400, JSON.stringify(fields));
    assert.equal(res.headers.get('cache-control'), 'no-store');
  }
});

test('one read at a time: the second concurrent read gets 409 busy', async () => {
  await insert();
  const responses = await Promise.all([readRequest(), readRequest()]);
  assert.deepEqual(responses.map((r) => r.status).sort(), [200, 409]);
  const busy = responses.find((r) => r.status === 409)!;
  assert.equal(busy.headers.get('cache-control'), 'no-store');
  const html = await busy.text();
  assert.equal(hidden(html, 'error'), 'busy');
  assert.equal(hidden(html, 'req'), REQ);
  // Free again afterwards.
  assert.equal((await readRequest()).status, 200);
});

test('no card: the page carries error=no_card', async () => {
  const res = await readRequest();
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.equal(hidden(html, 'error'), 'no_card');
  assert.equal(hidden(html, 'req'), REQ);
  assert.equal(hidden(html, 'assertion'), undefined);
  assert.equal(formAction(html), RETURN);
});

test('interpolated values are HTML-escaped', async () => {
  await insert({ ...simCard, name: '<b>"' });
  const html = await (await readRequest()).text();
  assert.doesNotMatch(html, /<b>/);
  assert.match(html, /&#60;○○&#34;/); // masked name, escaped
  assert.equal(formAction(html), RETURN);
});

test('a return URL on another allowed server than the asking page: 403, nothing read', async () => {
  const two = await startAgent({ sim: true, port: 0, allowOrigins: [SERVER, OTHER], demoCardsDir: demoDir, log: () => {} });
  try {
    const read = (ret: string, headers: Record<string, string>) =>
      fetch(`${two.url}/v1/read`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ req: REQ, challenge: CHALLENGE, return: ret, lang: 'en' }),
      });
    await fetch(`${two.url}/sim/card`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(simCard) });
    for (const [ret, headers] of <Array<[string, Record<string, string>]>>[
      [`${OTHER}/card-reads/${REQ}`, { Origin: SERVER }],
      [`${SERVER}/card-reads/${REQ}`, { Origin: OTHER }],
      [`${OTHER}/card-reads/${REQ}`, { Referer: `${SERVER}/register` }],
    ]) {
      const res = await read(ret, headers);
      assert.equal(res.status, 403, `${JSON.stringify(headers)} → ${ret}`);
      const html = await res.text();
      assert.equal(hidden(html, 'assertion'), undefined);
      assert.doesNotMatch(html, /<form/);
    }
  } finally {
    await two.close();
  }
});

test('a return path other than /card-reads/<req> of this request: 403, nothing read', async () => {
  await insert();
  const other = 'another_request-0123456789abcdef';
  for (const ret of [
    `${SERVER}/card-reads/${other}`, // another request's answer path
    `${SERVER}/card-reads/${REQ}/claim`,
    `${SERVER}/evil/card-reads/${REQ}`,
    `${SERVER}/card-reads/${REQ}/`,
    `${SERVER}/card-reads/${REQ}?a=1`,
    `${SERVER}/card-reads/${REQ}?`,
    `${SERVER}/card-reads/${REQ}#x`,
    `${SERVER}/card-reads/${REQ.toUpperCase()}`,
    `http://user:pw@localhost:3000/card-reads/${REQ}`,
    `${SERVER}/card-reads/x?a=1&b="><script>alert(1)</script>`,
  ]) {
    const res = await readRequest({ return: ret });
    assert.equal(res.status, 403, ret);
    const html = await res.text();
    assert.equal(hidden(html, 'assertion'), undefined, ret);
    assert.doesNotMatch(html, /<form/, ret);
  }
});

test("the assertion's aud is the asking page's origin, which the return URL shares", async () => {
  const two = await startAgent({ sim: true, port: 0, allowOrigins: [SERVER, OTHER], demoCardsDir: demoDir, log: () => {} });
  try {
    await fetch(`${two.url}/sim/card`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(simCard) });
    for (const [origin, headers] of <Array<[string, Record<string, string>]>>[
      [SERVER, { Origin: SERVER }],
      [OTHER, { Origin: OTHER }],
      [OTHER, { Referer: `${OTHER}/login` }],
    ]) {
      const ret = `${origin}/card-reads/${REQ}`;
      const res = await fetch(`${two.url}/v1/read`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ req: REQ, challenge: CHALLENGE, return: ret, lang: 'en' }),
      });
      assert.equal(res.status, 200, JSON.stringify(headers));
      const html = await res.text();
      assert.equal(formAction(html), ret);
      assert.match(res.headers.get('content-security-policy')!, new RegExp(`form-action ${origin}(;|$)`));
      const { payload } = await compactVerify(hidden(html, 'assertion')!, cardKeyPairFromSeed(seed).publicKeyObject);
      assert.equal(JSON.parse(new TextDecoder().decode(payload)).aud, origin, JSON.stringify(headers));
    }
  } finally {
    await two.close();
  }
});

test('PUT /sim/card validates the card; browsers from other origins cannot use it', async () => {
  assert.equal((await insert({ ...simCard, privateKey: 'short' })).status, 400);
  assert.equal((await insert({ ...simCard, birthDate: '1980-02-30' })).status, 400);
  assert.equal((await insert({ ...simCard, name: '王\u{1F600}' })).status, 400);
  const res = await fetch(`${agent.url}/sim/card`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Origin: SERVER },
    body: JSON.stringify(simCard),
  });
  assert.equal(res.status, 403);
  const pre = await fetch(`${agent.url}/sim/card`, { method: 'OPTIONS', headers: { Origin: SERVER, 'Access-Control-Request-Method': 'PUT' } });
  assert.equal(pre.status, 403);
});

test('the tray lists demo cards and inserts/removes them through local forms', async () => {
  const own = agent.url;
  let html = await (await fetch(`${own}/`)).text();
  assert.match(html, /林堃/);
  assert.match(html, /插入.*Insert/);
  assert.match(html, /action="\/sim\/tray\/insert"/);

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${own}${path}`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });
  assert.equal((await post('/sim/tray/insert', 'card=lin', { Origin: SERVER })).status, 403);
  assert.equal((await post('/sim/tray/insert', 'card=lin', {})).status, 403); // neither Origin nor Referer
  assert.equal((await post('/sim/tray/insert', 'card=lin', { Referer: 'https://evil.example/' })).status, 403);
  let res = await post('/sim/tray/insert', 'card=lin', { Origin: own });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/');
  html = await (await fetch(`${own}/`)).text();
  assert.match(html, /取出.*Remove/);
  const body = await (await readRequest()).text();
  assert.match(body, /林○/);

  res = await post('/sim/tray/remove', '', { Referer: `${own}/` });
  assert.equal(res.status, 303);
  const status = (await (await fetch(`${own}/v1/status`, { headers: { Accept: 'application/json' } })).json()) as { card: boolean };
  assert.equal(status.card, false);
});

test('requests naming another host are refused (DNS rebinding)', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    request({ host: '127.0.0.1', port: agent.port, path: '/v1/status', headers: { Host: `evil.example:${agent.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(status, 403);
});

test('simulated-mode routes do not exist in PC/SC mode', async () => {
  const pcsc = await startAgent({ port: 0, allowOrigins: [SERVER], log: () => {} });
  try {
    const res = await fetch(`${pcsc.url}/sim/card`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(simCard) });
    assert.equal(res.status, 404);
    assert.equal((await fetch(`${pcsc.url}/sim/card`, { method: 'DELETE' })).status, 404);
  } finally {
    await pcsc.close();
  }
});
