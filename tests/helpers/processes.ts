import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { freePort } from './site.js';

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `npm run serve` (src/server.ts) running as a process of its own on a loopback port. */
export interface AppProcess {
  name: string;
  port: number;
  url: string;
  /** Everything it wrote to stdout and stderr so far (LOG_LEVEL=info: migrations, mails sent, shutdown). */
  output(): string;
  /** Resolves once /readyz answers 200 (migrated and reachable); fails if the process exits first or after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with its exit code (or signal). */
  stop(graceMs?: number): Promise<number | string | null>;
}

/**
 * Spawns the app as `npm run serve` does (`node --import tsx src/server.ts`) with the operator's `env` added to the
 * test's environment, and returns at once: start several, then wait for each one's ready().
 */
export async function spawnAppProcess(name: string, env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    // LOG_LEVEL=info: tests read which process applied the migrations and which one sent each mail.
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitStatus: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitStatus = code ?? signal;
      resolve(exitStatus);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    port,
    url,
    output: () => output,
    async ready(timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitStatus !== undefined) throw new Error(`${name} exited (${exitStatus}) before it was ready:\n${output}`);
        try {
          const answer = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
          if (answer.status === 200) return;
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${output}`);
        await sleep(100);
      }
    },
    async stop(graceMs = 10_000) {
      if (exitStatus !== undefined) return exitStatus;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * One address in front of several app processes, as the site's proxy is: each request goes, untouched (headers,
 * cookies, X-Forwarded-For), to the process last chosen with sendTo(). It is an Express app, so the helpers that
 * drive `t.app` (BrowserAgent, the signed card reads, appClient) drive the processes through it.
 */
export class FrontProxy {
  readonly app: Express = express();
  private target: AppProcess | undefined;
  /** Which process answered each request, in order (for a failing test's message). */
  readonly answeredBy: string[] = [];

  constructor() {
    this.app.use((req, res) => {
      const target = this.target;
      if (!target) {
        res.status(502).send('no process chosen');
        return;
      }
      this.answeredBy.push(`${target.name} ${req.method} ${req.originalUrl}`);
      const upstream = httpRequest(
        { host: '127.0.0.1', port: target.port, method: req.method, path: req.originalUrl, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        if (!res.headersSent) res.status(502).send(`${target.name}: ${err.message}`);
        else res.destroy(err);
      });
      req.pipe(upstream);
    });
  }

  /** The process that answers the following requests. */
  sendTo(target: AppProcess): void {
    this.target = target;
  }
}
