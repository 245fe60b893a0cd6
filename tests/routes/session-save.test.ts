import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { sessions } from '../../src/platform/http/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let server: Server;
before(async () => {
  t = await buildTestApp();
  // The platform's sessions alone, on a route that changes the session as a claimed card read does.
  const app = express();
  app.use(...sessions({ pool: t.services.sessionPool, secret: 'x'.repeat(32), secure: false, idleMs: 60_000, absoluteMs: 3_600_000, clock: t.clock }));
  app.get('/change', (req, res) => {
    req.session.startedAt = t.clock.now().getTime();
    res.send('changed');
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
});
after(async () => {
  await new Promise((r) => server.close(r));
  await t.close();
});

test('nothing of a response leaves before the session it changed is stored', async () => {
  // Hold every write to the session table; reads go on.
  const lock = new pg.Client({ connectionString: t.databaseUrl });
  await lock.connect();
  await lock.query('begin');
  await lock.query('lock table session in exclusive mode');

  const port = (server.address() as AddressInfo).port;
  let headersAt = 0;
  const response = new Promise<{ status: number; cookie: string | undefined }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/change', method: 'GET' }, (res) => {
      headersAt = Date.now();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: (res.headers['set-cookie'] ?? [])[0] }));
    });
    req.on('error', reject);
    req.end();
  });

  await new Promise((r) => setTimeout(r, 600));
  assert.equal(headersAt, 0, 'the response head was sent while the session was not yet stored');
  const released = Date.now();
  await lock.query('commit');
  await lock.end();
  const { status, cookie } = await response;
  assert.equal(status, 200);
  assert.ok(headersAt >= released);
  const sid = decodeURIComponent(/nhi\.sid=s:([^.;]+)/.exec(decodeURIComponent(cookie ?? ''))?.[1] ?? '');
  const stored = await t.services.orm.em.fork().getConnection().execute('select sess from session where sid = ?', [sid]);
  assert.equal(stored.length, 1, 'the session the cookie names is stored');
});
