/**
 * The registry import of one folder: the files of the household, card and enrolment registries, in the
 * order their references need (a card's or an enrolment's person must already be imported).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { importRegistryFile, formatReport, RejectedRow, taipeiDate, type FileReport, type RegistryFileSpec } from '../../platform/registry-import/index.js';
import { personsFile } from '../household/index.js';
import { cardsFile } from '../cards/index.js';
import { enrollmentsFile } from '../employers/index.js';
import { isDemoRegistry, refuseDemoInProduction } from './guard.js';

export const registryFiles: readonly RegistryFileSpec[] = [personsFile, cardsFile, enrollmentsFile];

export interface FolderImportResult {
  /** Files imported (and committed), in order. */
  imported: FileReport[];
  /** The file rejected, if any: nothing of it was applied and the files after it were not read. */
  rejected?: { file: string; line: number; reason: string };
}

export interface FolderImportOptions {
  /** "Today" for the no-dates-in-the-future rule. */
  now?: Date;
  log?: (message: string) => void;
}

/** True when no person has been imported yet (the demo start loads its registry then). */
export async function registryIsEmpty(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'registry-import' });
  await client.connect();
  try {
    const { rows } = await client.query<{ found: boolean }>('select exists (select 1 from person) as found');
    return !rows[0]?.found;
  } finally {
    await client.end();
  }
}

/**
 * Imports whichever registry files `folder` holds. Throws on database errors, when it holds none, and for a
 * demo registry in production.
 */
export async function importRegistryFolder(databaseUrl: string, folder: string, options: FolderImportOptions = {}): Promise<FolderImportResult> {
  // Demo card keys are known to whoever holds the demo secret: never trust them in production.
  if (isDemoRegistry(folder)) refuseDemoInProduction();
  const log = options.log ?? (() => {});
  const today = taipeiDate(options.now ?? new Date());
  const present = registryFiles.filter((spec) => existsSync(join(folder, spec.file)));
  if (!present.length) throw new Error(`${folder} holds none of ${registryFiles.map((s) => s.file).join(', ')}`);

  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'registry-import' });
  await client.connect();
  const imported: FileReport[] = [];
  try {
    // Room for the merge's sort, and the rules checked by parallel workers whatever the file's size (the staging
    // table has no statistics yet). Session settings, this connection only.
    await client.query(`set work_mem = '64MB'; set parallel_setup_cost = 0; set parallel_tuple_cost = 0; set min_parallel_table_scan_size = 0`);
    for (const spec of present) {
      try {
        const report = await importRegistryFile(client, spec, join(folder, spec.file), { today });
        imported.push(report);
        log(formatReport(report));
      } catch (err) {
        if (!(err instanceof RejectedRow)) throw err;
        return { imported, rejected: { file: spec.file, line: err.line, reason: err.reason } };
      }
    }
    return { imported };
  } finally {
    await client.end();
  }
}
