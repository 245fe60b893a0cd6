import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import {
  enrollTerminal,
  publicKeyFromBase64url,
  READ_BASIC_DATA,
  SELECT_NHI_APPLICATION,
  startAgent,
  type AgentOptions,
  type PcscBackend,
} from '../../src/agent/index.js';

const SERVER = 'http://localhost:3000';
const CHALLENGE = Buffer.alloc(32, 9).toString('base64url');
const REQ = Buffer.alloc(24, 1).toString('base64url'); // a request id as the server makes them
// 王小明's basic data, written out: number, name (Big5, 0x00-padded), ID, birth 0690131, M, issued 1040601.
const BASIC_DATA = Buffer.from(
  '303030303132333435363738' + 'a4fda470a9fa' + '00'.repeat(14) + '41313233343536373839' + '30363930313331' + '4d' + '31303430363031',
  'hex',
);
const OK = Buffer.from([0x90, 0x00]);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-pcsc-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withAgent<T>(options: Partial<AgentOptions>, fn: (url: string) => Promise<T>): Promise<T> {
  const agent = await startAgent({ port: 0, allowOrigins: [SERVER], terminalKeyFile: join(dir, 'none.json'), log: () => {}, ...options });
  try {
    return await fn(agent.url);
  } finally {
    await agent.close();
  }
}

const statusJson = async (url: string) =>
  (await (await fetch(`${url}/v1/status`, { headers: { Accept: 'application/json' } })).json()) as Record<string, unknown>;

async function read(url: string): Promise<{ status: number; html: string }> {
  const res = await fetch(`${url}/v1/read`, {
    method: 'POST',
    headers: { Origin: SERVER, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ req: REQ, challenge: CHALLENGE, return: `${SERVER}/card-reads/${REQ}`, lang: 'en' }),
  });
  return { status: res.status, html: await res.text() };
}
const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

test('without a PC/SC daemon the agent starts, reports pcsc_service_missing and reads nothing', async () => {
  // The same as this machine has (no pcscd), made explicit so a developer's running pcscd does not matter.
  await withEnv('PCSCLITE_CSOCK_NAME', join(dir, 'no-such-socket'), () =>
    withAgent({}, async (url) => {
      assert.deepEqual(await statusJson(url), { reader: false, card: false, version: '0.1.0', mode: 'pcsc', error: 'pcsc_service_missing' });
      const fragment = await (await fetch(`${url}/v1/status`, { headers: { 'HX-Request': 'true' } })).text();
      assert.match(fragment, /讀卡服務未啟動 \(PC\/SC\)/);
      const { status, html } = await read(url);
      assert.equal(status, 200);
      assert.equal(hidden(html, 'error'), 'pcsc_service_missing');
      assert.equal(hidden(html, 'assertion'), undefined);
    }),
  );
});

test('the daemon is there but no PC/SC binding is installed: pcsc_service_missing', async () => {
  const socket = join(dir, 'pcscd.comm');
  const server: Server = await new Promise((resolve) => {
    const s = createServer().listen(socket, () => resolve(s));
  });
  try {
    await withEnv('PCSCLITE_CSOCK_NAME', socket, () =>
      withAgent({ pcscModule: 'no-such-pcsc-binding' }, async (url) => {
        assert.equal((await statusJson(url)).error, 'pcsc_service_missing');
        assert.equal(hidden((await read(url)).html, 'error'), 'pcsc_service_missing');
      }),
    );
  } finally {
    server.close();
  }
});

/** A PC/SC backend with one reader, recording the APDUs it receives. */
function fakeBackend(opts: { readers?: Array<{ name: string; cardPresent: boolean }>; answers?: Buffer[]; fail?: boolean }) {
  const sent: Buffer[] = [];
  const backend: PcscBackend = {
    async listReaders() {
      return opts.readers ?? [{ name: 'Fake Reader 0', cardPresent: true }];
    },
    async exchange(_reader, apdus) {
      if (opts.fail) throw new Error('card removed');
      sent.push(...apdus.map((a) => Buffer.from(a)));
      return opts.answers ?? [OK, Buffer.concat([BASIC_DATA, OK])];
    },
  };
  return { backend, sent };
}

test('a real card is read with SELECT then READ and signed with the terminal key', async () => {
  const terminalKeyFile = join(dir, 'terminal-key.json');
  const terminal = await enrollTerminal({ keyFile: terminalKeyFile });
  const { backend, sent } = fakeBackend({});
  await withAgent({ pcscBackend: backend, terminalKeyFile }, async (url) => {
    assert.deepEqual(await statusJson(url), { reader: true, card: true, version: '0.1.0', mode: 'pcsc' });
    const { status, html } = await read(url);
    assert.equal(status, 200);
    const hex = (spaced: string) => Buffer.from(spaced.replace(/ /g, ''), 'hex');
    assert.deepEqual(sent, [hex('00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00'), hex('00 CA 11 00 02 00 00')]);
    assert.deepEqual(sent, [Buffer.from(SELECT_NHI_APPLICATION), Buffer.from(READ_BASIC_DATA)]);
    const { payload, protectedHeader } = await compactVerify(hidden(html, 'assertion')!, publicKeyFromBase64url(terminal.publicKey));
    assert.equal(protectedHeader.kid, `terminal:${terminal.terminalId}`);
    const claims = JSON.parse(new TextDecoder().decode(payload));
    assert.equal(claims.card.name, '王小明');
    assert.equal(claims.card.birthDate, '1980-01-31');
    assert.equal(claims.aud, SERVER);
  });
});

test('without an enrolled terminal key a real card is not read: terminal_not_enrolled', async () => {
  const { backend, sent } = fakeBackend({});
  await withAgent({ pcscBackend: backend }, async (url) => {
    assert.equal((await statusJson(url)).error, 'terminal_not_enrolled');
    assert.equal(hidden((await read(url)).html, 'error'), 'terminal_not_enrolled');
    assert.equal(sent.length, 0);
  });
});

test('reader and card errors map to their codes', async () => {
  const terminalKeyFile = join(dir, 'terminal-key-2.json');
  await enrollTerminal({ keyFile: terminalKeyFile });
  const cases: Array<[Parameters<typeof fakeBackend>[0], string]> = [
    [{ readers: [] }, 'no_reader'],
    [{ readers: [{ name: 'R', cardPresent: false }] }, 'no_card'],
    [{ answers: [Buffer.from([0x6a, 0x82]), Buffer.concat([BASIC_DATA, OK])] }, 'card_unreadable'], // not an NHI card
    [{ answers: [OK, Buffer.from([0x6a, 0x82])] }, 'card_unreadable'],
    [{ answers: [OK, Buffer.concat([BASIC_DATA.subarray(0, 50), OK])] }, 'card_unreadable'],
    [{ fail: true }, 'card_unreadable'],
  ];
  for (const [opts, code] of cases) {
    await withAgent({ pcscBackend: fakeBackend(opts).backend, terminalKeyFile }, async (url) => {
      assert.equal(hidden((await read(url)).html, 'error'), code, JSON.stringify(opts));
    });
  }
});
