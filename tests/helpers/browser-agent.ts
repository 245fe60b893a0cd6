import { createRequire } from 'node:module';
import * as cheerio from 'cheerio';
import request from 'supertest';
import type { Express } from 'express';

interface CookieJar {
  getCookies(access: unknown): Array<{ name: string; value: string }>;
}
// superagent's own cookie jar (the `cookiejar` package); `All` matches every cookie in it.
const everyCookie = (createRequire(import.meta.url)('cookiejar') as { CookieAccessInfo: { All: unknown } }).CookieAccessInfo.All;

export interface Page {
  status: number;
  html: string;
  $: cheerio.CheerioAPI;
  headers: Record<string, string>;
  url: string;
}

/**
 * Drives the app as a browser without JavaScript would: keeps cookies, follows redirects with GET,
 * and submits forms with their hidden fields (the CSRF token among them) plus what the "person" types.
 */
export class BrowserAgent {
  readonly agent: ReturnType<typeof request.agent>;
  page: Page | undefined;

  constructor(app: Express, private readonly headers: Record<string, string> = {}) {
    this.agent = request.agent(app);
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Page> {
    let res = await this.agent.get(url).set({ ...this.headers, ...headers });
    let current = url;
    for (let hops = 0; hops < 5 && res.status >= 300 && res.status < 400 && res.headers.location; hops++) {
      current = res.headers.location;
      res = await this.agent.get(current).set(this.headers);
    }
    return this.keep(res, current);
  }

  /** The cookies this browser holds now, by name. */
  cookies(): Record<string, string> {
    const jar = (this.agent as unknown as { jar: CookieJar }).jar;
    return Object.fromEntries(jar.getCookies(everyCookie).map((c) => [c.name, c.value]));
  }

  /** Fills and submits the form matched by `selector` on the current page (the first form by default). */
  async submit(fields: Record<string, string | string[]> = {}, selector = 'form', headers: Record<string, string> = {}): Promise<Page> {
    if (!this.page) throw new Error('no page loaded');
    const form = this.page.$(selector).first();
    if (!form.length) throw new Error(`no form "${selector}" on ${this.page.url}`);
    const action = form.attr('action') || this.page.url;
    const values: Record<string, string> = {};
    form.find('input[name], select[name], textarea[name]').each((_i, el) => {
      const input = this.page!.$(el);
      const type = (input.attr('type') || '').toLowerCase();
      if (type === 'submit' || type === 'button' || type === 'reset') return;
      if ((type === 'checkbox' || type === 'radio') && input.attr('checked') === undefined) return;
      values[input.attr('name')!] = input.val()?.toString() ?? '';
    });
    return this.post(action, { ...values, ...fields }, headers);
  }

  /** Posts a urlencoded form body, then follows a redirect as a browser would. */
  async post(url: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Page> {
    // A list is a field sent once per value (checkboxes of one name), as a browser sends it.
    const body = new URLSearchParams(Object.entries(fields).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, v])));
    const res = await this.agent.post(url).type('form').set({ ...this.headers, ...headers }).send(body.toString());
    if (res.status >= 300 && res.status < 400 && res.headers.location) return this.get(res.headers.location);
    return this.keep(res, url);
  }

  private keep(res: request.Response, url: string): Page {
    const html = res.text ?? '';
    this.page = { status: res.status, html, $: cheerio.load(html), headers: res.headers as Record<string, string>, url };
    return this.page;
  }
}
