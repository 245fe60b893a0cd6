/** Starts the web server only (production entry point). `npm start` (src/cli/start.ts) adds the demo companions. */
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { serve } from './platform/lifecycle.js';
import { createServices } from './services.js';

try {
  const config = loadConfig();
  const services = await createServices(config);
  services.startBackground();
  await serve(createApp(services), { port: config.port, host: config.host }, [{ stop: () => services.close() }], services.log);
  services.log(`NHI card registration listening on ${config.host}:${config.port} (${config.publicOrigin})`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
