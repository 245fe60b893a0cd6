/**
 * `npm run app -- <command>`: a stand-in for the NHI mobile app, to try the app API (/api/app/v1) by hand.
 *   bind CODE [--platform P] [--model M]         binds this "phone" with a code from 行動裝置認證
 *   login --id ID_NUMBER [--password P]          logs in with the registration password (asked when not given)
 *   devices                                      lists the person's devices (after login)
 *   phone-verify --mobile 09… --id ID --card-last4 NNNN [--password P]   行動電話認證
 * The phone's state (device id, device token, access token) is kept in a JSON file: --state FILE, or
 * $DATA_DIR/app-simulator.json. The server is --server URL, or PUBLIC_ORIGIN, or http://localhost:3000.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';

const USAGE = `usage: npm run app -- bind CODE [--platform P] [--model M]
       npm run app -- login --id ID_NUMBER [--password P]
       npm run app -- devices
       npm run app -- phone-verify --mobile 09xxxxxxxx --id ID_NUMBER --card-last4 NNNN [--password P]
options: --server URL (default PUBLIC_ORIGIN or http://localhost:3000), --state FILE, --lang zh-TW|en`;

interface PhoneState {
  deviceId: string;
  platform: string;
  model: string;
  deviceToken?: string;
  idNumber?: string;
  accessToken?: string;
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    state: { type: 'string' },
    lang: { type: 'string' },
    platform: { type: 'string' },
    model: { type: 'string' },
    id: { type: 'string' },
    password: { type: 'string' },
    mobile: { type: 'string' },
    'card-last4': { type: 'string' },
  },
});

const server = (values.server ?? process.env.PUBLIC_ORIGIN ?? 'http://localhost:3000').replace(/\/$/, '');
const stateFile = resolve(values.state ?? join(process.env.DATA_DIR ?? '.data', 'app-simulator.json'));

function loadState(): PhoneState {
  if (existsSync(stateFile)) return JSON.parse(readFileSync(stateFile, 'utf8')) as PhoneState;
  return { deviceId: randomUUID().toUpperCase(), platform: values.platform ?? 'Android', model: values.model ?? 'NHI app simulator' };
}

function saveState(state: PhoneState): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  // The device token is a credential: readable by this user only.
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

async function call(method: string, path: string, body?: object, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server}/api/app/v1${path}`, {
    method,
    headers: {
      'Accept-Language': values.lang ?? 'zh-TW',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { error: 'not_json', message: text.slice(0, 200) };
  }
  return { status: res.status, json };
}

async function askPassword(): Promise<string> {
  if (values.password) return values.password;
  if (process.env.APP_PASSWORD) return process.env.APP_PASSWORD;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question('registration password: ');
  rl.close();
  return answer;
}

/** Prints the answer; a failure prints the API's error and message and sets the exit code. */
function report(status: number, json: Record<string, unknown>, ok: (json: Record<string, unknown>) => string): number {
  if (status >= 200 && status < 300) {
    console.log(ok(json));
    return 0;
  }
  console.error(`${status} ${String(json.error ?? '')}${json.reason ? ` (${String(json.reason)})` : ''}: ${String(json.message ?? '')}`);
  return 1;
}

async function main(): Promise<number> {
  const command = positionals[0];
  const state = loadState();
  if (command === 'bind' && positionals[1]) {
    const { status, json } = await call('POST', '/devices', { code: positionals[1], platform: state.platform, model: state.model, deviceId: state.deviceId });
    if (status === 201) saveState({ ...state, deviceToken: String(json.deviceToken), accessToken: undefined });
    return report(status, json, (j) => `bound device ${state.deviceId} to ${String(j.account)} (token kept in ${stateFile})`);
  }
  if (command === 'login' && values.id) {
    if (!state.deviceToken) return report(400, { error: 'not_bound', message: 'bind this device first: npm run app -- bind CODE' }, () => '');
    const { status, json } = await call('POST', '/sessions', { idNumber: values.id, password: await askPassword(), deviceId: state.deviceId, deviceToken: state.deviceToken });
    if (status === 200) saveState({ ...state, idNumber: values.id, accessToken: String(json.accessToken) });
    return report(status, json, (j) => `logged in; the access token is valid for ${String(j.expiresIn)} s`);
  }
  if (command === 'devices') {
    if (!state.accessToken) return report(401, { error: 'not_logged_in', message: 'log in first: npm run app -- login --id ID_NUMBER' }, () => '');
    const { status, json } = await call('GET', '/devices', undefined, state.accessToken);
    return report(status, json, (j) =>
      ((j.devices as Record<string, string>[]) ?? []).map((d) => `${d.status}\t${d.platform}\t${d.model}\t${d.deviceId}\t${d.verifiedAt}`).join('\n') || '(no devices)');
  }
  if (command === 'phone-verify' && values.mobile && values.id && values['card-last4']) {
    const { status, json } = await call('POST', '/phone-verifications', {
      mobile: values.mobile, idNumber: values.id, cardLast4: values['card-last4'], password: await askPassword(),
      platform: state.platform, model: state.model, deviceId: state.deviceId,
    });
    if (status === 201) saveState({ ...state, deviceToken: String(json.deviceToken), idNumber: values.id, accessToken: undefined });
    return report(status, json, (j) => `registered and bound: ${String(j.account)}`);
  }
  console.error(USAGE);
  return 2;
}

process.exitCode = await main();
