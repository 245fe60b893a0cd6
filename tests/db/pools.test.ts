import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestApp } from '../helpers/app.js';

// N app processes on one PostgreSQL hold N × (2 × DATABASE_POOL_MAX + JOB_CONCURRENCY + 2) connections at most.
describe('the pools are as large as DATABASE_POOL_MAX says', () => {
  const t = useTestApp({ env: { DATABASE_POOL_MAX: '3' } });

  test('the ORM pool and the session pool each open at most 3 connections', async () => {
    assert.equal(t.services.sessionPool.options.max, 3);
    assert.equal(t.services.orm.config.get('pool')?.max, 3);
  });
});
