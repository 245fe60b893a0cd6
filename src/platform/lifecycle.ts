import type { Server } from 'node:http';
import type { Express } from 'express';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Listens, and on SIGTERM/SIGINT shuts down in order: stop accepting, let requests in flight finish
 * (cut after `graceMs`), then stop the rest (`stops`, in order: companions, worker, pools, database).
 */
export function serve(
  app: Express,
  at: number | { port: number; host?: string },
  stops: Stoppable[],
  log: (msg: string) => void,
  graceMs = 8000,
): Promise<Server> {
  const { port, host } = typeof at === 'number' ? { port: at, host: undefined } : at;
  return new Promise((resolve, reject) => {
    // No host: every interface, as Node does; HOST narrows it (loopback by default outside production).
    const server = host === undefined ? app.listen(port) : app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      server.keepAliveTimeout = 5000;
      let shuttingDown = false;
      const shutdown = async (signal: string) => {
        if (shuttingDown) return;
        shuttingDown = true;
        log(`${signal}: shutting down`);
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(force);
        for (const s of stops) {
          try {
            await s.stop();
          } catch (err) {
            log(`shutdown step failed: ${String(err)}`);
          }
        }
        log('stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
      resolve(server);
    });
  });
}
