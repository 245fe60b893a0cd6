import request from 'supertest';
import type { Express } from 'express';
import type { BrowserAgent, Page } from './browser-agent.js';

/** 行動裝置認證 → 產生裝置認證碼 as a browser without JS: the page with the code, and the code as shown. */
export async function generateDeviceCode(browser: BrowserAgent): Promise<{ page: Page; code: string }> {
  await browser.get('/account/device-verification');
  const page = await browser.submit({}, 'form.device-code-form');
  return { page, code: page.$('.device-code strong').text().trim() };
}

let nextDevice = 0;
/** A device as the app describes it, with an ID of its own. */
export function newDevice(model = 'Sony Xperia'): { platform: string; model: string; deviceId: string } {
  nextDevice += 1;
  return { platform: 'Android', model, deviceId: `A1B2C3D4-0000-4000-8000-${String(Date.now() % 1e6).padStart(6, '0')}${String(nextDevice).padStart(6, '0')}` };
}

/** The app's calls, from one client address (X-Forwarded-For, trusted from loopback as behind the site's proxy). */
export function appClient(app: Express, options: { address?: string; language?: string } = {}) {
  const headers: Record<string, string> = { 'X-Forwarded-For': options.address ?? '198.51.100.1', 'Accept-Language': options.language ?? 'zh-TW' };
  return {
    bind: (body: unknown) => request(app).post('/api/app/v1/devices').set(headers).send(body as object),
    login: (body: unknown) => request(app).post('/api/app/v1/sessions').set(headers).send(body as object),
    devices: (accessToken?: string, authorization = accessToken ? `Bearer ${accessToken}` : undefined) => {
      const call = request(app).get('/api/app/v1/devices').set(headers);
      return authorization !== undefined ? call.set('Authorization', authorization) : call;
    },
  };
}

let nextAddress = 0;
/** A client address no other test used (the code-guess counters are per address and last 10 minutes). */
export function freshAddress(): string {
  nextAddress += 1;
  return `2001:db8::${nextAddress.toString(16)}`;
}
