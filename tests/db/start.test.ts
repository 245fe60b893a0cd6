import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/site.js';

const root = join(import.meta.dirname, '..', '..');


async function waitForHttp(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm start (the demo)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nhi-start-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  async function start() {
    const port = await freePort();
    const agentPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: String(port), AGENT_ORIGIN: `http://127.0.0.1:${agentPort}`, DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    return { child, port, agentPort, output: () => output };
  }

  test('serves the home page within 30 s with the simulated agent and the demo registry; SIGTERM stops everything', async () => {
    const began = Date.now();
    const run = await start();
    const home = await waitForHttp(`http://127.0.0.1:${run.port}/`, 30_000);
    const elapsed = Date.now() - began;
    assert.equal(home.status, 200, run.output());
    assert.match(await home.text(), /健保卡網路服務註冊/);
    assert.ok(elapsed < 30_000, `served after ${elapsed} ms`);

    const status = await fetch(`http://127.0.0.1:${run.agentPort}/v1/status`, { headers: { Accept: 'application/json' } });
    assert.equal((await status.json()).mode, 'sim');
    const tray = await (await fetch(`http://127.0.0.1:${run.agentPort}/`)).text();
    assert.ok((tray.match(/\/sim\/tray\/insert/g) ?? []).length >= 1, 'the demo cards are in the tray');
    assert.ok(existsSync(join(dataDir, 'pg', 'postmaster.pid')), 'the embedded PostgreSQL runs in DATA_DIR');

    // A command-line tool on the same DATA_DIR uses the server's running database.
    const beside = await runImport();
    assert.equal(beside.code, 0, beside.output);
    assert.match(beside.output, /using the embedded PostgreSQL already running/);
    assert.match(beside.output, /persons\.csv/);

    run.child.kill('SIGTERM');
    const code = await exitOf(run.child);
    assert.equal(code, 0, run.output());
    assert.match(run.output(), /stopped/);
    assert.equal(existsSync(join(dataDir, 'pg', 'postmaster.pid')), false, 'the embedded PostgreSQL was stopped');
  });

  test('a restart reuses the data folder and does not load the demo registry again', async () => {
    const run = await start();
    const home = await waitForHttp(`http://127.0.0.1:${run.port}/`, 30_000);
    assert.equal(home.status, 200);
    run.child.kill('SIGTERM');
    assert.equal(await exitOf(run.child), 0, run.output());
    assert.doesNotMatch(run.output(), /demo registry loaded/);
    assert.doesNotMatch(run.output(), /creating the embedded PostgreSQL cluster/);

    // With the server stopped, the tool starts the embedded database itself, and stops it again.
    const alone = await runImport();
    assert.equal(alone.code, 0, alone.output);
    assert.match(alone.output, /embedded PostgreSQL started/);
    assert.equal(existsSync(join(dataDir, 'pg', 'postmaster.pid')), false);
  });

  test('a counter PC\'s terminal key is created by the agent and enrolled, then revoked, on the server', async () => {
    const created = await run('src/agent/main.ts', ['enroll', '--terminal-key', join(dataDir, 'terminal-key.json')]);
    assert.equal(created.code, 0, created.output);
    const id = /terminalId: (T-[0-9a-f]{8})/.exec(created.output)?.[1];
    const key = /publicKey: +([A-Za-z0-9_-]{43})/.exec(created.output)?.[1];
    assert.ok(id && key, created.output);
    const enrolled = await run('src/cli/terminal.ts', ['enroll', '--id', id!, '--public-key', key!, '--label', '台北業務組 櫃台 3']);
    assert.equal(enrolled.code, 0, enrolled.output);
    assert.match(enrolled.output, new RegExp(`enrolled ${id}`));
    const again = await run('src/cli/terminal.ts', ['enroll', '--id', id!, '--public-key', key!, '--label', 'again']);
    assert.equal(again.code, 1);
    assert.match(again.output, /already enrolled/);
    const revoked = await run('src/cli/terminal.ts', ['revoke', '--id', id!]);
    assert.equal(revoked.code, 0, revoked.output);
  });

  test('with NODE_ENV=production it exits 1, saying it is the demo, and loads and writes no demo data', async () => {
    const productionData = mkdtempSync(join(tmpdir(), 'nhi-start-production-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', PORT: String(await freePort()), DATA_DIR: productionData };
      delete env.DATABASE_URL;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      assert.equal(await exitOf(child), 1, output);
      assert.match(output, /npm start is the demo and production refuses demo data/);
      assert.deepEqual(readdirSync(productionData), [], 'no database, demo registry or demo secret');
    } finally {
      rmSync(productionData, { recursive: true, force: true });
    }
  });

  function runImport(): Promise<{ code: number | null; output: string }> {
    return run('src/cli/registry-import.ts', [join(dataDir, 'demo-registry')]);
  }

  async function run(script: string, args: string[]): Promise<{ code: number | null; output: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    return { code: await exitOf(child), output };
  }
});
