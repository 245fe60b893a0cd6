/**
 * `npm start`, the demo: the web server, the reader agent in simulated mode with the demo cards in its tray,
 * the embedded PostgreSQL under DATA_DIR, and the demo registry loaded when the registry is empty.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent } from '../agent/index.js';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { serve } from '../platform/lifecycle.js';
import { importRegistryFolder, isDemoRegistry, registryIsEmpty, writeDemoRegistry } from '../modules/registry/index.js';
import { createServices } from '../services.js';

const DEMO_PERSONS = 50;

try {
  // Before loadConfig, whose production checks would hide the real answer: not this command.
  if (process.env.NODE_ENV === 'production') {
    throw new Error('npm start is the demo and production refuses demo data (NODE_ENV=production); in production run `node dist/src/server.js`');
  }
  const config = loadConfig();
  const services = await createServices(config);
  const log = services.log;

  const demoFolder = join(config.dataDir, 'demo-registry');
  if (await registryIsEmpty(services.databaseUrl)) {
    // A folder without the marker predates per-installation demo keys: written again, with this DATA_DIR's secret.
    if (!existsSync(join(demoFolder, 'persons.csv')) || !isDemoRegistry(demoFolder)) {
      await writeDemoRegistry({ out: demoFolder, dataDir: config.dataDir, persons: DEMO_PERSONS, seed: 'demo' });
    }
    const result = await importRegistryFolder(services.databaseUrl, demoFolder, { log });
    if (result.rejected) throw new Error(`the demo registry was rejected: ${result.rejected.file}:${result.rejected.line}: ${result.rejected.reason}`);
    log(`demo registry loaded from ${demoFolder}`);
  }

  const agent = await startAgent({
    sim: true,
    port: Number(new URL(config.agentOrigin).port || 80),
    allowOrigins: [config.publicOrigin],
    demoCardsDir: join(demoFolder, 'cards'),
    log,
  });
  services.startBackground();
  await serve(createApp(services), { port: config.port, host: config.host }, [{ stop: () => agent.close() }, { stop: () => services.close() }], log);
  log(`NHI card registration: ${config.publicOrigin}  (reader agent, simulated: ${agent.url})`);
  if (!config.smtpUrl) log(`mail goes to the local mailbox: ${config.publicOrigin}/dev/mailbox`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

