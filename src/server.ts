import type { Server } from 'node:http';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { createServices } from './services.js';

/** Starts the web server; on SIGTERM/SIGINT stops accepting, finishes requests, then closes everything. */
async function main(): Promise<void> {
  const config = loadConfig();
  const services = await createServices(config);
  const app = createApp(services);
  services.startBackground();
  const server: Server = app.listen(config.port, () => {
    services.log(`NHI card registration listening on ${config.publicOrigin} (port ${config.port})`);
  });
  server.keepAliveTimeout = 5000;

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    services.log(`${signal}: shutting down`);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Requests still running after 8 s are cut so the container stops within its grace period.
    const force = setTimeout(() => server.closeAllConnections(), 8000);
    await closed;
    clearTimeout(force);
    await services.close();
    services.log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
