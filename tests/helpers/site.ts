import { createServer } from 'node:net';
import { ManualClock } from '../../src/platform/clock.js';
import { buildTestApp, type TestApp } from './app.js';
import { startTestAgent, type TestAgent } from './card-reads.js';
import { listen } from './chromium.js';

/** A port nobody listens on right now (for a server whose origin must be known before it starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface LiveSite {
  t: TestApp;
  agent: TestAgent;
  /** The origin a browser uses: PUBLIC_ORIGIN, allowed by the agent. */
  origin: string;
  close(): Promise<void>;
}

/**
 * The real app listening on a port, with the real agent (simulated reader) allowing its origin: what a browser
 * test needs to read a card. The clock starts at the real time, since the agent stamps reads with it.
 */
export async function startLiveSite(): Promise<LiveSite> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const agent = await startTestAgent(origin);
  const t = await buildTestApp({
    env: { AGENT_ORIGIN: agent.url, PUBLIC_ORIGIN: origin, SERVICE_HOURS: '00:00-24:00' },
    clock: new ManualClock(new Date()),
  });
  const site = await listen(t.app, port);
  return {
    t,
    agent,
    origin,
    async close() {
      await site.close();
      await t.close();
      await agent.stop();
    },
  };
}
