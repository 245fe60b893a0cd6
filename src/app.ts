import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Services } from './services.js';
import { databaseReady, isDatabaseUnavailable, requestContext } from './platform/db/index.js';
import { addressList, browserBinding, csrfProtection, onlyFrom, securityHeaders, serviceHoursGate, sessions, STAFF_SESSION_COOKIE } from './platform/http/index.js';
import { INTRANET_PATH } from './platform/module.js';
import { DEFAULT_LOCALE, formatDate, formatDateTime, localeMiddleware, type Locale } from './platform/i18n/index.js';
import { publicDir } from './platform/paths.js';
import { render, varyOnHtmx } from './platform/views/index.js';

const CITIZEN_IDLE_MS = 30 * 60 * 1000;
const CITIZEN_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
const STAFF_IDLE_MS = 15 * 60 * 1000;
const STAFF_ABSOLUTE_MS = 12 * 60 * 60 * 1000;

const forbidden = () => Object.assign(new Error('outside INTRANET_ALLOW'), { status: 403, code: 'EOUTSIDEINTRANET' });

/** Builds the web app: middleware in a fixed order, then the modules' routes, then 404 and the error handler. */
export function createApp(services: Services): express.Express {
  const { config } = services;
  const app = express();
  app.locals.views = services.views;
  // Behind a TLS-terminating proxy, req.secure (and so the Secure session cookie) depends on trusting it.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');

  // 1. Headers every response carries.
  app.use(securityHeaders({ agentOrigin: config.agentOrigin, secure: config.secureCookies }));
  app.use(varyOnHtmx);

  // 2. What needs no session: static files and health checks.
  app.use('/public', express.static(publicDir, { index: false, maxAge: config.env === 'production' ? '1d' : 0 }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await databaseReady(services.orm);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });

  // The counter intranet answers only its networks: refused here, before any session, body or page.
  app.use(INTRANET_PATH, onlyFrom(addressList(config.intranetAllow), forbidden));

  // 3. Pages from here on may show personal data or carry tokens: no cache keeps them.
  app.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // 4. Bodies, the browser binding, sessions, the ORM context, language, CSRF.
  app.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 }));
  app.use(express.json({ limit: '100kb' }));
  app.use(browserBinding({ secure: config.secureCookies }).middleware);
  // Staff pages have a session of their own: a citizen's login never opens the intranet, nor the other way round.
  const sessionOptions = { pool: services.sessionPool, secret: config.sessionSecret, secure: config.secureCookies, clock: services.clock };
  const citizenSession = express.Router().use(...sessions({ ...sessionOptions, idleMs: CITIZEN_IDLE_MS, absoluteMs: CITIZEN_ABSOLUTE_MS }));
  const staffSession = express.Router().use(
    ...sessions({ ...sessionOptions, cookie: STAFF_SESSION_COOKIE, idleMs: STAFF_IDLE_MS, absoluteMs: STAFF_ABSOLUTE_MS }),
  );
  app.use((req, res, next) => (isIntranet(req.path) ? staffSession : citizenSession)(req, res, next));
  app.use(requestContext(services.orm));
  app.use(localeMiddleware(services.i18n, config.secureCookies));
  app.use(pageLocals(services));
  app.use(
    ...csrfProtection({ secret: config.sessionSecret, secure: config.secureCookies, exempt: services.modules.flatMap((m) => m.csrfExempt ?? []) }),
  );

  // 5. Module routes; citizen routes only within service hours.
  // Routes open at all hours come first: once the gate is passed outside service hours, it answers every request.
  for (const module of services.modules) if (module.staffRouter) app.use(INTRANET_PATH, module.staffRouter);
  for (const module of services.modules) if (module.router) app.use(module.router);
  const gate = serviceHoursGate(config.serviceHours, services.clock);
  for (const module of services.modules) if (module.citizenRouter) app.use(gate, module.citizenRouter);

  // 6. Nothing matched, or something failed.
  app.use((req, res) => {
    render(req, res, 'errors/not-found', {}, { status: 404 });
  });
  app.use(errorHandler(services));
  return app;
}

const isIntranet = (path: string): boolean => path === INTRANET_PATH || path.startsWith(`${INTRANET_PATH}/`);

/** Values every template may use. */
function pageLocals(services: Services): RequestHandler {
  return (req, res, next) => {
    res.locals.path = req.path;
    res.locals.currentUrl = req.originalUrl;
    res.locals.serviceHours = services.config.serviceHours.text;
    res.locals.agentOrigin = services.config.agentOrigin;
    res.locals.formatDate = (d: Date) => formatDate(d, res.locals.locale as Locale);
    res.locals.formatDateTime = (d: Date) => formatDateTime(d, res.locals.locale as Locale);
    res.locals.langHref = (lang: string) => {
      const url = new URL(req.originalUrl, 'http://x');
      url.searchParams.set('lang', lang);
      return `${url.pathname}${url.search}`;
    };
    next();
  };
}

function errorHandler(services: Services): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // A database that is down or restarting is not a fault of this request: 503, "try again later", one log line.
    const unavailable = isDatabaseUnavailable(err);
    const status = unavailable ? 503 : typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
    if (res.headersSent) return res.end();
    if (unavailable) {
      services.log(`database unavailable: ${req.method} ${req.path}: ${err instanceof Error ? err.message : String(err)}`);
      res.set('Retry-After', '5');
    } else if (status >= 500) {
      // Log what failed, never request bodies (they may hold passwords or ID numbers).
      services.log(`error ${req.method} ${req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    // The app's JSON API answers its errors (a body too large or not JSON, a failure) in JSON, never a page.
    if (req.path.startsWith('/api/')) {
      const code = status === 413 ? 'payload_too_large' : status >= 500 ? 'server_error' : 'invalid_input';
      const t = services.i18n.translator(req.acceptsLanguages('zh-TW', 'en') === 'en' ? 'en' : 'zh-TW');
      return res.status(unavailable ? 503 : status >= 500 ? 500 : status).json({ error: code, message: t(`api.error.${code}`, { field: 'body' }), ...(code === 'invalid_input' ? { field: 'body' } : {}) });
    }
    // The failure may have come before the middleware that prepares page locals (a malformed body).
    if (typeof res.locals.t !== 'function') {
      res.locals.locale = DEFAULT_LOCALE;
      res.locals.t = services.i18n.translator(DEFAULT_LOCALE);
    }
    res.locals.langHref ??= (lang: string) => `/?lang=${lang}`;
    res.locals.serviceHours ??= services.config.serviceHours.text;
    try {
      if (err?.code === 'EBADCSRFTOKEN') return render(req, res, 'errors/csrf', {}, { status: 403 });
      if (err?.code === 'EOUTSIDEINTRANET') return render(req, res, 'errors/outside-intranet', {}, { status: 403 });
      if (status === 413) return render(req, res, 'errors/too-large', {}, { status: 413 });
      if (status === 404) return render(req, res, 'errors/not-found', {}, { status: 404 });
      if (status >= 400 && status < 500) return render(req, res, 'errors/bad-request', {}, { status });
      if (unavailable) return render(req, res, 'errors/try-later', {}, { status: 503 });
      render(req, res, 'errors/server', {}, { status: 500 });
    } catch (renderError) {
      services.log(`error page failed: ${String(renderError)}`);
      res.status(500).type('text').send('Internal Server Error');
    }
  };
}
