import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';

/** An operator command's body on the app's services (same database as the server), closed however it ends; exits with its code. */
export async function runWithServices(command: (services: Services) => Promise<number>): Promise<never> {
  const services = await createServices(loadConfig(), { log: () => {} });
  let code: number;
  try {
    code = await command(services);
  } finally {
    await services.close();
  }
  process.exit(code);
}
