import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STAFF_ACTIONS, STAFF_ROLES, type StaffRole } from '../../src/modules/intranet/index.js';
import { useTestApp } from '../helpers/app.js';
import type { BrowserAgent } from '../helpers/browser-agent.js';
import { staffBrowser } from '../helpers/staff.js';

type Cell = Record<StaffRole, boolean>;
const CLERK_AND_SUPERVISOR: Cell = { clerk: true, supervisor: true, admin: false };
const SUPERVISOR: Cell = { clerk: false, supervisor: true, admin: false };
const SUPERVISOR_AND_ADMIN: Cell = { clerk: false, supervisor: true, admin: true };
const ADMIN: Cell = { clerk: false, supervisor: false, admin: true };

/**
 * Who may do what, written out here on its own (not read from the code): each row is an action, a request that
 * performs or opens it, and the roles that may. Every cell is a request made by a staff member of that role.
 */
const TABLE: { action: string; method: 'GET' | 'POST'; path: string; allowed: Cell }[] = [
  { action: 'person.register', method: 'GET', path: '/intranet/register', allowed: CLERK_AND_SUPERVISOR },
  { action: 'person.register', method: 'POST', path: '/intranet/register', allowed: CLERK_AND_SUPERVISOR },
  { action: 'person.lookup', method: 'GET', path: '/intranet/persons', allowed: CLERK_AND_SUPERVISOR },
  { action: 'person.lookup', method: 'POST', path: '/intranet/persons', allowed: CLERK_AND_SUPERVISOR },
  { action: 'person.suspend', method: 'POST', path: '/intranet/person/suspend', allowed: CLERK_AND_SUPERVISOR },
  { action: 'person.reinstate', method: 'POST', path: '/intranet/person/reinstate', allowed: SUPERVISOR },
  { action: 'person.unlock', method: 'POST', path: '/intranet/person/unlock', allowed: CLERK_AND_SUPERVISOR },
  { action: 'person.resend', method: 'POST', path: '/intranet/person/resend', allowed: CLERK_AND_SUPERVISOR },
  { action: 'announcements.manage', method: 'GET', path: '/intranet/announcements', allowed: SUPERVISOR_AND_ADMIN },
  { action: 'announcements.manage', method: 'POST', path: '/intranet/announcements/new', allowed: SUPERVISOR_AND_ADMIN },
  { action: 'employers.designate', method: 'GET', path: '/intranet/employers', allowed: SUPERVISOR },
  { action: 'employers.designate', method: 'POST', path: '/intranet/employers/12345678/admin', allowed: SUPERVISOR },
  { action: 'audit.view', method: 'GET', path: '/intranet/audit', allowed: SUPERVISOR_AND_ADMIN },
  { action: 'audit.view', method: 'GET', path: '/intranet/audit/export.csv', allowed: SUPERVISOR_AND_ADMIN },
  { action: 'staff.manage', method: 'GET', path: '/intranet/staff', allowed: ADMIN },
  { action: 'staff.manage', method: 'POST', path: '/intranet/staff/new', allowed: ADMIN },
  { action: 'terminals.manage', method: 'GET', path: '/intranet/terminals', allowed: ADMIN },
];

const MENU: Record<StaffRole, string[]> = {
  clerk: ['/intranet/register', '/intranet/persons'],
  supervisor: ['/intranet/register', '/intranet/persons', '/intranet/employers', '/intranet/announcements', '/intranet/audit'],
  admin: ['/intranet/announcements', '/intranet/audit', '/intranet/staff', '/intranet/terminals'],
};

describe('counter intranet: each role sees and can do exactly its own actions', () => {
  const t = useTestApp({ rateLimits: { login: { points: 1000, durationSeconds: 60 }, accountSteps: { points: 1000, durationSeconds: 60 } } });

  test('the table here and the roles in the code agree, action by action', () => {
    const fromCode = Object.fromEntries(Object.entries(STAFF_ACTIONS).map(([action, roles]) => [action, Object.fromEntries(STAFF_ROLES.map((role) => [role, (roles as readonly string[]).includes(role)]))]));
    const fromTable = Object.fromEntries(TABLE.map((row) => [row.action, row.allowed]));
    assert.deepEqual(fromTable, fromCode);
  });

  for (const role of STAFF_ROLES) {
    test(`${role}: every cell of the table, and the menu`, async () => {
      const { browser } = await staffBrowser(t, role);
      const menu = await browser.get('/intranet');
      assert.deepEqual(menu.$('.service-menu a').map((_i, a) => menu.$(a).attr('href')).get(), MENU[role]);
      const csrf = menu.$('form[action="/intranet/logout"] input[name="_csrf"]').val() as string;
      for (const row of TABLE) {
        const status = await statusOf(browser, row.method, row.path, csrf);
        // Allowed: a page opens; a form post (empty here) is answered, with its own refusal of the input at most.
        if (row.allowed[role] && row.method === 'GET') assert.equal(status, 200, `${role} may ${row.method} ${row.path}`);
        else if (row.allowed[role]) assert.ok(status !== 403 && status < 500, `${role} may ${row.method} ${row.path}: ${status}`);
        else assert.equal(status, 403, `${role} may not ${row.method} ${row.path}`);
      }
    });
  }

  test('a refused page says why: the role and what to do', async () => {
    const { browser } = await staffBrowser(t, 'clerk');
    const page = await browser.get('/intranet/staff');
    assert.equal(page.status, 403);
    assert.match(page.$('main').text(), /您的角色（櫃台人員）不能使用此作業/);
  });
});

async function statusOf(browser: BrowserAgent, method: 'GET' | 'POST', path: string, csrf: string): Promise<number> {
  if (method === 'GET') return (await browser.agent.get(path)).status;
  // A real CSRF token, so a 403 is the role's refusal and not the token's.
  return (await browser.agent.post(path).type('form').send({ _csrf: csrf })).status;
}
