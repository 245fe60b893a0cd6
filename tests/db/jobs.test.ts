import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createJobs } from '../../src/platform/jobs/index.js';
import { useTestApp } from '../helpers/app.js';

// The job queue on PostgreSQL: jobs exist exactly when the transaction that adds them commits, and a job its
// process left locked (killed mid-run) is released by the sweep and runs again.
describe('background jobs', () => {
  const t = useTestApp();

  test('a job added in a rolled-back transaction never runs; a committed one runs once', async () => {
    const ran: unknown[] = [];
    const jobs = createJobs({ databaseUrl: t.databaseUrl, log: () => {}, concurrency: 1, staleMs: 1000 });
    jobs.register({ 'probe-commit': async (payload) => void ran.push(payload) });
    try {
      const em = t.services.orm.em.fork();
      await assert.rejects(em.transactional(async (tx) => {
        await jobs.add(tx, 'probe-commit', { n: 1 });
        throw new Error('rolled back');
      }));
      await em.transactional((tx) => jobs.add(tx, 'probe-commit', { n: 2 }));
      await jobs.runOnce();
      await jobs.runOnce();
      assert.deepEqual(ran, [{ n: 2 }]);
      await assert.rejects(em.transactional((tx) => jobs.add(tx, 'no-such-task', {})), /no background task/);
    } finally {
      await jobs.close();
    }
  });

  test('a job locked by a process that stopped beating is released and runs again', async () => {
    const ran: unknown[] = [];
    const jobs = createJobs({ databaseUrl: t.databaseUrl, log: () => {}, concurrency: 1, staleMs: 1000 });
    jobs.register({ 'probe-stale': async (payload) => void ran.push(payload) });
    try {
      const em = t.services.orm.em.fork();
      await em.transactional((tx) => jobs.add(tx, 'probe-stale', { n: 3 }, { jobKey: 'probe-stale-1' }));
      // What a process killed mid-job leaves: the job locked by a worker that no longer beats.
      await em.getConnection().execute(`update graphile_worker._private_jobs set locked_at = now() - interval '1 minute', locked_by = 'killed-worker' where key = 'probe-stale-1'`);
      await jobs.runOnce();
      assert.deepEqual(ran, [], 'a locked job is not taken');
      // A worker that beats recently keeps its lock.
      await em.getConnection().execute(`insert into job_heartbeat (worker_id, beat_at) values ('killed-worker', now())`);
      assert.equal(await jobs.sweep(), 0);
      await em.getConnection().execute(`update job_heartbeat set beat_at = now() - interval '1 minute'`);
      assert.equal(await jobs.sweep(), 1);
      await jobs.runOnce();
      assert.deepEqual(ran, [{ n: 3 }]);
    } finally {
      await jobs.close();
    }
  });
  test('a stop while the worker is still starting (SIGTERM just after listening) waits for it, and nothing runs on afterwards', { timeout: 20_000 }, async () => {
    const problems: unknown[] = [];
    const note = (err: unknown) => problems.push(err);
    process.on('unhandledRejection', note);
    process.on('uncaughtException', note);
    const lines: string[] = [];
    try {
      const jobs = createJobs({ databaseUrl: t.databaseUrl, log: (line) => lines.push(line), concurrency: 1, staleMs: 1000 });
      const started = jobs.start();
      await jobs.close();
      await started;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.deepEqual(problems, []);
      assert.deepEqual(lines.filter((line) => /failed|error|Cannot use a pool/i.test(line)), [], 'no poll or sweep on the ended pool');
    } finally {
      process.off('unhandledRejection', note);
      process.off('uncaughtException', note);
    }
  });
});
