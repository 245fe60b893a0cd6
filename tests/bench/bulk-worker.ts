/**
 * The process that runs a bulk upload's job for the bench, as an app process's worker does: its own services on the
 * bench's database and data folder. Prints its time and its own peak RSS as JSON.
 */
import { loadConfig } from '../../src/config.js';
import { createServices } from '../../src/services.js';

const services = await createServices(loadConfig({ ...process.env, NODE_ENV: 'test' }), { skipMigrations: true });
try {
  const started = performance.now();
  await services.jobs.runOnce();
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
} finally {
  await services.close();
}
