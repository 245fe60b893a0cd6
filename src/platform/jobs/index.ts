import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { Logger, makeWorkerUtils, run, runMigrations, runOnce, type Runner, type Task, type TaskList, type WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { DATABASE_CONNECT_TIMEOUT_MS } from '../db/availability.js';

/** When the daily housekeeping tasks (expired codes, links, captcha uses) run: 03:15 in Taipei (19:15 UTC). */
export const HOUSEKEEPING_TIME = '15 19 * * *';

/** What a module's background task is given: its payload, and a way to say it is still alive (see the sweep below). */
export type JobTask = (payload: unknown, job: { attempts: number; beat(): Promise<void> }) => Promise<void>;

export interface JobsOptions {
  databaseUrl: string;
  log: (msg: string) => void;
  /** Jobs one process runs at once. */
  concurrency: number;
  /** A job locked this long without a heartbeat belongs to a process that died: it is unlocked and runs again. */
  staleMs: number;
}

export interface Jobs {
  /** A module's tasks, by name, and the times (crontab, UTC) any of them runs on its own (before start). */
  register(tasks: Record<string, JobTask>, schedules?: Record<string, string>): void;
  /** Queues a job in the caller's transaction (graphile_worker.add_job), so it exists exactly when the change does. */
  add(em: EntityManager, task: string, payload: object, options?: { jobKey?: string; maxAttempts?: number }): Promise<void>;
  /** Starts this process's worker and its sweep for jobs of dead processes. */
  start(): Promise<void>;
  /** Runs every job that is due, then returns (tests). */
  runOnce(): Promise<void>;
  /** Unlocks jobs whose process stopped beating (what the sweep does every few seconds). Returns how many workers. */
  sweep(): Promise<number>;
  /** Stops this process's worker (jobs in hand finish first); start() may be called again. */
  stop(): Promise<void>;
  /** stop(), then its connections: the last call. */
  close(): Promise<void>;
}

/** graphile-worker's schema, installed or brought up to date (under the caller's migration lock). */
export async function applyJobMigrations(databaseUrl: string): Promise<void> {
  await runMigrations({ connectionString: databaseUrl, logger: quiet });
}

const quiet = new Logger(() => () => {});

/**
 * Background work on PostgreSQL (graphile-worker): jobs are rows added in the transaction that causes them, taken by
 * any app process. A process killed mid-job leaves the job locked; graphile-worker would wait hours before giving it to
 * another, so each running job beats into `job_heartbeat`, and a lock without a recent beat is released.
 */
export function createJobs(options: JobsOptions): Jobs {
  // A database that does not answer fails a poll within seconds, and graphile-worker tries again, never at the TCP timeout.
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.concurrency + 2, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  // graphile-worker listens only while it runs: an idle connection lost (a database restart) must not end the process.
  pool.on('error', (err) => options.log(`jobs: idle connection lost: ${err.message}`));
  let runner: Runner | undefined;
  let utils: WorkerUtils | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;
  const beatMs = Math.max(200, Math.floor(options.staleMs / 4));

  const beat = (workerId: string) => pool.query(
    `insert into job_heartbeat (worker_id, beat_at) values ($1, now()) on conflict (worker_id) do update set beat_at = now()`,
    [workerId],
  ).then(() => undefined);

  const tasks: Record<string, JobTask> = {};
  // graphile-worker runs each scheduled time once for all processes (it records the last run in the database).
  const crontab: string[] = [];
  const taskList = (): TaskList => Object.fromEntries(
    Object.entries(tasks).map(([name, task]): [string, Task] => [
      name,
      async (payload, helpers) => {
        const workerId = helpers.job.locked_by ?? 'unknown';
        await beat(workerId);
        const timer = setInterval(() => void beat(workerId).catch(() => {}), beatMs);
        try {
          await task(payload, { attempts: helpers.job.attempts, beat: () => beat(workerId) });
        } finally {
          clearInterval(timer);
          await pool.query('delete from job_heartbeat where worker_id = $1', [workerId]).catch(() => {});
        }
      },
    ]),
  );

  const workerUtils = async () => (utils ??= await makeWorkerUtils({ pgPool: pool, logger: quiet }));

  const jobs: Jobs = {
    register(more, schedules = {}) {
      for (const name of Object.keys(more)) if (tasks[name]) throw new Error(`background task "${name}" registered twice`);
      Object.assign(tasks, more);
      for (const [name, times] of Object.entries(schedules)) {
        if (!tasks[name]) throw new Error(`scheduled task "${name}" is not registered`);
        crontab.push(`${times} ${name}`);
      }
    },
    async add(em, task, payload, addOptions = {}) {
      if (!tasks[task]) throw new Error(`no background task "${task}"`);
      await (em as SqlEntityManager).execute(
        `select graphile_worker.add_job(?, ?::json, job_key => ?, max_attempts => ?)`,
        [task, JSON.stringify(payload), addOptions.jobKey ?? null, addOptions.maxAttempts ?? 25],
      );
    },
    start() {
      // Remembered, so that a stop during the start (SIGTERM right after listening) waits for it instead of leaving
      // a worker running on a pool about to end.
      starting ??= (async () => {
        runner = await run({
          pgPool: pool,
          concurrency: options.concurrency,
          noHandleSignals: true,
          pollInterval: 1000,
          taskList: taskList(),
          crontab: crontab.join('\n'),
          logger: workerLogger(options.log),
        });
        const sweep = () => void jobs.sweep().catch((err) => options.log(`job sweep failed: ${String(err)}`));
        sweep();
        sweeper = setInterval(sweep, beatMs * 2);
      })();
      return starting;
    },
    async runOnce() {
      await runOnce({ pgPool: pool, taskList: taskList(), noHandleSignals: true, logger: workerLogger(options.log) });
    },
    async sweep() {
      const stale = await pool.query<{ locked_by: string }>(
        `select distinct j.locked_by from graphile_worker.jobs j
           left join job_heartbeat h on h.worker_id = j.locked_by
         where j.locked_by is not null and j.locked_at < now() - $1::interval
           and (h.beat_at is null or h.beat_at < now() - $1::interval)`,
        [`${options.staleMs} milliseconds`],
      );
      const workerIds = stale.rows.map((row) => row.locked_by);
      if (!workerIds.length) return 0;
      await (await workerUtils()).forceUnlockWorkers(workerIds);
      await pool.query('delete from job_heartbeat where worker_id = any($1)', [workerIds]);
      options.log(`released the jobs of ${workerIds.length} stopped worker(s)`);
      return workerIds.length;
    },
    async stop() {
      await starting?.catch(() => {});
      starting = undefined;
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      await runner?.stop();
      runner = undefined;
    },
    async close() {
      await jobs.stop();
      await utils?.release();
      utils = undefined;
      await pool.end();
    },
  };
  return jobs;
}

function workerLogger(log: (msg: string) => void): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') log(`jobs ${level}: ${message}`);
  });
}
