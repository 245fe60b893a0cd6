// The agent's HTTP side: status, the card read, and (simulated mode) the card tray. Loopback only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { cardReadReturnPath, READ_CHALLENGE, READ_REQUEST_ID } from '../protocol/index.js';
import { signCardAssertion } from './assertion.js';
import { homePage, messagePage, resultPage, statusFragment, statusPage, STYLE_HASH, SUBMIT_SCRIPT_HASH, trayPage } from './html.js';
import { parseLang } from './messages.js';
import { PcscCardReader, type PcscBackend } from './pcsc.js';
import { CardReadError, parseSimCard, SimCardReader, type CardReader, type SimCard } from './readers.js';
import { defaultDataDir, defaultTerminalKeyFile } from './terminal-key.js';

export const AGENT_VERSION = '0.1.0';
const HOST = '127.0.0.1'; // never any other interface

export interface AgentOptions {
  /** Simulated reader and card tray instead of PC/SC. */
  sim?: boolean;
  /** Default 7777; 0 picks a free port. */
  port?: number;
  /** Server origins allowed to request reads and embed the status, e.g. http://localhost:3000. */
  allowOrigins: string[];
  /** Default <DATA_DIR or .data>/agent/terminal-key.json. */
  terminalKeyFile?: string;
  /** Folder of simulated-card JSON files for the tray. Default <DATA_DIR or .data>/demo-cards. */
  demoCardsDir?: string;
  /** Makes each simulated read take this long (tests of the one-read-at-a-time rule). */
  simReadDelayMs?: number;
  /** A PC/SC backend to use instead of loading the `smartcard` package. */
  pcscBackend?: PcscBackend;
  /** Module name of the PC/SC binding, default `smartcard`. */
  pcscModule?: string;
  /** Clock in milliseconds, for the assertion's iat. */
  now?: () => number;
  log?: (line: string) => void;
}

export interface RunningAgent {
  url: string;
  port: number;
  close(): Promise<void>;
}

const HX_HEADERS = 'HX-Request, HX-Current-URL, HX-Target, HX-Trigger, HX-Trigger-Name';
const FORM_LIMIT = 8 * 1024;
const JSON_LIMIT = 16 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function toOrigin(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) origin: ${value}`);
  return url.origin;
}

function csp(opts: { script?: string; formAction?: string; frameAncestors?: string } = {}): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    opts.script ? `script-src ${opts.script}` : '',
    `form-action ${opts.formAction ?? "'none'"}`,
    `frame-ancestors ${opts.frameAncestors ?? "'none'"}`,
    "base-uri 'none'",
  ]
    .filter(Boolean)
    .join('; ');
}

type Headers = Record<string, string>;

function send(res: ServerResponse, status: number, body: string, headers: Headers = {}, framable = false): void {
  const all: Headers = {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': csp(),
    ...(framable ? {} : { 'X-Frame-Options': 'DENY' }),
    ...headers,
  };
  res.writeHead(status, all);
  res.end(body);
}

const noContent = (res: ServerResponse, status: number, headers: Headers = {}): void => {
  res.writeHead(status, { 'Cache-Control': 'no-store', ...headers }).end();
};

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const mediaType = (req: IncomingMessage): string => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/** The Origin header, or when absent the origin of the Referer. */
function requestOrigin(req: IncomingMessage): string | null {
  if (req.headers.origin !== undefined) return req.headers.origin; // may be "null": never allowed
  try {
    return req.headers.referer ? new URL(req.headers.referer).origin : null;
  } catch {
    return null;
  }
}

function parseUrl(value: string | null): URL | null {
  try {
    return value === null ? null : new URL(value);
  } catch {
    return null;
  }
}

async function loadDemoCards(dir: string, log: (line: string) => void): Promise<Array<{ id: string; card: SimCard }>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return []; // no folder: empty tray
  }
  const cards: Array<{ id: string; card: SimCard }> = [];
  for (const name of names) {
    try {
      cards.push({ id: name.slice(0, -5), card: parseSimCard(JSON.parse(await readFile(join(dir, name), 'utf8'))) });
    } catch (err) {
      log(`demo card ${name} skipped: ${(err as Error).message}`);
    }
  }
  return cards;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const allowed = new Set(options.allowOrigins.map(toOrigin));
  const frameAncestors = allowed.size ? [...allowed].join(' ') : "'none'";
  const demoCardsDir = options.demoCardsDir ?? join(defaultDataDir(), 'demo-cards');
  const sim = options.sim ? new SimCardReader(options.simReadDelayMs ?? 0) : null;
  const reader: CardReader =
    sim ??
    new PcscCardReader({
      terminalKeyFile: options.terminalKeyFile ?? defaultTerminalKeyFile(),
      backend: options.pcscBackend,
      moduleName: options.pcscModule,
      log,
    });
  let reading = false;
  let port = 0;
  const ownHosts = () => [`${HOST}:${port}`, `localhost:${port}`];
  const ownOrigins = () => ownHosts().map((h) => `http://${h}`);

  async function status(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = await reader.status();
    const origin = req.headers.origin;
    const headers: Headers = { Vary: 'Origin, HX-Request, Accept' };
    if (origin && allowed.has(origin)) headers['Access-Control-Allow-Origin'] = origin;
    if (req.headers['hx-request'] === 'true' && req.headers['hx-history-restore-request'] !== 'true') {
      send(res, 200, statusFragment(s, reader.mode), headers);
    } else if ((req.headers.accept ?? '').includes('application/json')) {
      const body = { reader: s.reader, card: s.card, version: AGENT_VERSION, mode: reader.mode, ...(s.error ? { error: s.error } : {}) };
      send(res, 200, JSON.stringify(body), { ...headers, 'Content-Type': 'application/json; charset=utf-8' });
    } else {
      // The one page other origins may frame: the live status inside the server's pages.
      send(res, 200, statusPage(s, reader.mode), { ...headers, 'Content-Security-Policy': csp({ frameAncestors }) }, true);
    }
  }

  function preflight(req: IncomingMessage, res: ServerResponse, path: string): void {
    const origin = req.headers.origin;
    if (path !== '/v1/status' || !origin || !allowed.has(origin)) {
      return noContent(res, 403, { Vary: 'Origin' });
    }
    const headers: Headers = {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': 'GET',
      'Access-Control-Allow-Headers': HX_HEADERS,
      'Access-Control-Max-Age': '600',
      'Cache-Control': 'no-store',
      Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Private-Network',
    };
    // Chrome's private/local network access asks before a public page may call a loopback service.
    if (req.headers['access-control-request-private-network'] === 'true') {
      headers['Access-Control-Allow-Private-Network'] = 'true';
    }
    noContent(res, 204, headers);
  }

  async function read(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = requestOrigin(req);
    if (!origin || !allowed.has(origin)) return send(res, 403, messagePage('refused.title', 'refused.origin'));
    if (mediaType(req) !== 'application/x-www-form-urlencoded') {
      return send(res, 400, messagePage('refused.title', 'refused.request'));
    }
    const form = new URLSearchParams(await readBody(req, FORM_LIMIT));
    const req_ = form.get('req') ?? '';
    const challenge = form.get('challenge') ?? '';
    if (!READ_REQUEST_ID.test(req_) || !READ_CHALLENGE.test(challenge)) {
      return send(res, 400, messagePage('refused.title', 'refused.request'));
    }
    // The answer may go only to the asking page's own server, to the one path that takes this request's answer.
    const given = parseUrl(form.get('return'));
    if (given?.origin !== origin) return send(res, 403, messagePage('refused.title', 'refused.origin'));
    const returnUrl = new URL(cardReadReturnPath(req_), origin).href;
    if (given.href !== returnUrl) return send(res, 403, messagePage('refused.title', 'refused.request')); // other path, query, fragment, credentials
    const lang = parseLang(form.get('lang') ?? undefined);
    const aud = origin;
    const headers = { 'Content-Security-Policy': csp({ script: SUBMIT_SCRIPT_HASH, formAction: aud }) };
    const answer = (status: number, page: Parameters<typeof resultPage>[0]) => send(res, status, resultPage(page), headers);
    const base = { lang, returnUrl, req: req_, challenge };

    if (reading) return answer(409, { ...base, error: 'busy' });
    reading = true;
    try {
      const { card, seed, kid } = await reader.read();
      const assertion = await signCardAssertion({
        privateKeySeed: seed,
        kid,
        payload: { v: 1, req: req_, challenge, aud, iat: Math.floor(now() / 1000), card },
      });
      answer(200, { ...base, assertion, holderName: card.name });
    } catch (err) {
      if (!(err instanceof CardReadError)) log(`read failed: ${(err as Error).stack ?? String(err)}`);
      else if (err.message !== err.code) log(`read failed (${err.code}): ${err.message}`);
      answer(200, { ...base, error: err instanceof CardReadError ? err.code : 'card_unreadable' });
    } finally {
      reading = false;
    }
  }

  /** Simulated-mode control: JSON API callers send no Origin; browsers must be on the agent's own page. */
  function localOnly(req: IncomingMessage, refererFallback: boolean): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined) return ownOrigins().includes(origin);
    if (!refererFallback) return true;
    return requestOrigin(req) !== null && ownOrigins().includes(requestOrigin(req)!);
  }

  async function simRoute(req: IncomingMessage, res: ServerResponse, path: string, tray: SimCardReader): Promise<void> {
    const json = path === '/sim/card' && (req.method === 'PUT' || req.method === 'DELETE');
    const form = (path === '/sim/tray/insert' || path === '/sim/tray/remove') && req.method === 'POST';
    if (!json && !form) {
      if (['/sim/card', '/sim/tray/insert', '/sim/tray/remove'].includes(path)) throw new HttpError(405, 'method not allowed');
      return send(res, 404, messagePage('notFound.title', 'notFound.text'));
    }
    if (!localOnly(req, form)) return send(res, 403, messagePage('refused.title', 'refused.tray'));
    if (path === '/sim/tray/remove' || req.method === 'DELETE') {
      tray.remove();
    } else if (path === '/sim/tray/insert') {
      const id = new URLSearchParams(await readBody(req, FORM_LIMIT)).get('card');
      const found = (await loadDemoCards(demoCardsDir, log)).find((c) => c.id === id);
      if (!found) throw new HttpError(400, 'no such demo card');
      tray.insert(found.card);
    } else {
      if (mediaType(req) !== 'application/json') throw new HttpError(415, 'send the card as application/json');
      const body = await readBody(req, JSON_LIMIT);
      try {
        tray.insert(parseSimCard(JSON.parse(body)));
      } catch (err) {
        throw new HttpError(400, `invalid card: ${(err as Error).message}`);
      }
    }
    if (form) noContent(res, 303, { Location: '/' }); // back to the tray (POST-redirect-GET)
    else noContent(res, 204);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a foreign name resolving to 127.0.0.1 must not reach the agent.
    if (!ownHosts().includes(req.headers.host ?? '')) {
      return send(res, 403, 'Host not allowed', { 'Content-Type': 'text/plain; charset=utf-8' });
    }
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (req.method === 'OPTIONS') return preflight(req, res, path);
    if (path === '/v1/status' && get) return status(req, res);
    if (path === '/v1/read' && req.method === 'POST') return read(req, res);
    if (path === '/' && get) {
      const s = await reader.status();
      if (!sim) return send(res, 200, homePage(s));
      const cards = await loadDemoCards(demoCardsDir, log);
      return send(res, 200, trayPage({ status: s, inserted: sim.current, cards }), {
        'Content-Security-Policy': csp({ formAction: "'self'" }),
      });
    }
    if (sim && path.startsWith('/sim/')) return simRoute(req, res, path, sim);
    if (['/v1/status', '/v1/read', '/'].includes(path)) throw new HttpError(405, 'method not allowed');
    send(res, 404, messagePage('notFound.title', 'notFound.text'));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log(`error: ${(err as Error).stack ?? String(err)}`);
      if (res.headersSent) return void res.destroy();
      send(res, status, err instanceof HttpError ? err.message : 'internal error', {
        'Content-Type': 'text/plain; charset=utf-8',
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 7777, host: HOST }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
