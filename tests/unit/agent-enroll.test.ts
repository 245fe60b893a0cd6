import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cardKeyPairFromSeed, enrollTerminal, loadTerminalKey, TerminalKeyExistsError } from '../../src/agent/index.js';

const MAIN = fileURLToPath(new URL('../../src/agent/main.ts', import.meta.url));
const run = promisify(execFile);
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-enroll-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function agentCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('enroll writes a 0600 key file and prints the terminal ID and public key; refuses to overwrite', async () => {
  const keyFile = join(dir, 'agent', 'terminal-key.json');
  const first = await agentCli('enroll', '--terminal-key', keyFile);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(keyFile, 'utf8'));
  assert.match(saved.terminalId, /^T-[0-9a-f]{8}$/);
  assert.equal(Buffer.from(saved.privateKey, 'base64url').length, 32);
  const publicKey = cardKeyPairFromSeed(Buffer.from(saved.privateKey, 'base64url')).publicKey;
  assert.ok(first.stdout.includes(`terminalId: ${saved.terminalId}`), first.stdout);
  assert.ok(first.stdout.includes(`publicKey:  ${publicKey}`), first.stdout);
  assert.ok(!first.stdout.includes(saved.privateKey), 'the private key is never printed');

  const again = await agentCli('enroll', '--terminal-key', keyFile);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  assert.equal(readFileSync(keyFile, 'utf8'), JSON.stringify(saved, null, 2) + '\n');

  const forced = await agentCli('enroll', '--terminal-key', keyFile, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(JSON.parse(readFileSync(keyFile, 'utf8')).terminalId, saved.terminalId);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
});

test('enrollTerminal and loadTerminalKey agree', async () => {
  const keyFile = join(dir, 'k.json');
  assert.equal(await loadTerminalKey(keyFile), null);
  const made = await enrollTerminal({ keyFile });
  const loaded = await loadTerminalKey(keyFile);
  assert.equal(loaded?.terminalId, made.terminalId);
  assert.equal(loaded?.publicKey, made.publicKey);
  await assert.rejects(enrollTerminal({ keyFile }), TerminalKeyExistsError);
});
