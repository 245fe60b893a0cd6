/**
 * What keeps demo data out of production: the marker file every demo registry folder holds, and the refusal.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Written by the demo generator next to the CSV files; its presence marks the folder as demo data. */
export const DEMO_MARKER_FILE = 'demo.json';

export class DemoRefusedError extends Error {
  constructor() {
    super('demo data is never generated or loaded in production (NODE_ENV=production): its card keys are not secret. ' +
      'Import the real registry with `npm run registry:import -- <folder>`.');
    this.name = 'DemoRefusedError';
  }
}

/** Throws DemoRefusedError when NODE_ENV is production (read here, so that no caller can forget it). */
export function refuseDemoInProduction(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_ENV === 'production') throw new DemoRefusedError();
}

/** True when `folder` was written by the demo generator. */
export function isDemoRegistry(folder: string): boolean {
  return existsSync(join(folder, DEMO_MARKER_FILE));
}
