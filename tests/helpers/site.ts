import { createServer } from 'node:net';
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { ManualClock } from '../../src/platform/clock.js';
import { buildTestApp, type TestApp, type TestAppOptions } from './app.js';
import { SERVER_ORIGIN, startTestAgent, type TestAgent } from './card-reads.js';
import { launchChromium, listen } from './chromium.js';

/** A port nobody listens on right now (for a server whose origin must be known before it starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface AppWithAgent {
  t: TestApp;
  agent: TestAgent;
  close(): Promise<void>;
}

/**
 * The real app with the real agent (simulated reader) allowing `origin`, the app's PUBLIC_ORIGIN. The clock starts
 * at the real time, since the agent stamps reads with it; service hours are always open.
 */
export async function startAppWithAgent(origin = SERVER_ORIGIN, options: Pick<TestAppOptions, 'env' | 'rateLimits' | 'modules' | 'log'> = {}): Promise<AppWithAgent> {
  const agent = await startTestAgent(origin);
  const t = await buildTestApp({
    ...options,
    env: { AGENT_ORIGIN: agent.url, PUBLIC_ORIGIN: origin, SERVICE_HOURS: '00:00-24:00', ...options.env },
    clock: new ManualClock(new Date()),
  });
  return {
    t,
    agent,
    async close() {
      await t.close();
      await agent.stop();
    },
  };
}

export interface LiveSite {
  t: TestApp;
  agent: TestAgent;
  /** The origin a browser uses: PUBLIC_ORIGIN, allowed by the agent. */
  origin: string;
  close(): Promise<void>;
}

/** The app with its agent (startAppWithAgent), listening on a port, as a browser test needs it. */
export async function startLiveSite(): Promise<LiveSite> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const { t, agent, close } = await startAppWithAgent(origin);
  const site = await listen(t.app, port);
  return {
    t,
    agent,
    origin,
    async close() {
      await site.close();
      await close();
    },
  };
}

export interface ChromiumSite {
  readonly live: LiveSite;
  readonly t: TestApp;
  readonly agent: TestAgent;
  readonly browser: Browser;
}

/**
 * One live site (app + agent on a real port) and one Chromium for the tests of the enclosing describe, started
 * before them and closed after; the returned object's fields work inside tests and hooks.
 */
export function useChromiumSite(): ChromiumSite {
  let live: LiveSite | undefined;
  let browser: Browser | undefined;
  before(async () => {
    live = await startLiveSite();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await live?.close();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the Chromium site is not started yet (read .${name} inside a test or hook)`);
    return value;
  };
  return {
    get live() {
      return started(live, 'live');
    },
    get t() {
      return started(live, 't').t;
    },
    get agent() {
      return started(live, 'agent').agent;
    },
    get browser() {
      return started(browser, 'browser');
    },
  };
}
