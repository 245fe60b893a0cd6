import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { StaffRole } from '../../src/modules/intranet/index.js';
import type { TestApp } from './app.js';
import { BrowserAgent } from './browser-agent.js';

export const STAFF_PASSWORD = 'Counter-desk-2026';

/** A staff account made through the intranet's own API (as `npm run staff:create` does); returns its username. */
export async function createStaff(t: TestApp, role: StaffRole, username = `${role}-${randomBytes(3).toString('hex')}`): Promise<string> {
  await t.services.api.intranet.staff.create({ username, role, password: STAFF_PASSWORD, by: null, clientAddress: '127.0.0.1' });
  return username;
}

/** The staff login page, filled and sent with JavaScript off; the browser is then on the menu. */
export async function staffLogIn(t: TestApp, username: string, password = STAFF_PASSWORD, headers: Record<string, string> = {}): Promise<BrowserAgent> {
  const browser = new BrowserAgent(t.app, headers);
  await browser.get('/intranet/login');
  const page = await browser.submit({ username, password }, 'form.staff-login-form');
  assert.equal(page.url, '/intranet', page.$('.error-summary').text() || `status ${page.status}`);
  return browser;
}

/** A logged-in staff member of a role, new for the test. */
export async function staffBrowser(t: TestApp, role: StaffRole): Promise<{ browser: BrowserAgent; username: string }> {
  const username = await createStaff(t, role);
  return { browser: await staffLogIn(t, username), username };
}
