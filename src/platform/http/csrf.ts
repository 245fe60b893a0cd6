import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';

export interface CsrfOptions {
  /** Paths that carry their own protection (the signed card-read return). Matched on the whole path. */
  exempt: RegExp[];
}

/**
 * Synchronizer-token CSRF protection for every state-changing request: the token travels in the form
 * field `_csrf`, or in the `X-CSRF-Token` header that HTMX requests send (set once on <body hx-headers>).
 * Exposes the token to templates as `csrf.token`.
 */
export function csrfProtection(options: CsrfOptions): RequestHandler[] {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req: Request) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof fromBody === 'string') return fromBody;
      return req.get('X-CSRF-Token') ?? undefined;
    },
    skipCsrfProtection: (req) => options.exempt.some((re) => re.test(req.path)),
    errorConfig: { statusCode: 403, message: 'invalid csrf token', code: 'EBADCSRFTOKEN' },
  });
  const exposeToken: RequestHandler = (req, res, next) => {
    // Lazily, so that pages without a form do not create a session. The layout reads `used`
    // (after the page body rendered) to add the HTMX header only where a form needs it.
    const csrf = {
      used: false,
      get token(): string {
        csrf.used = true;
        return generateToken(req);
      },
    };
    res.locals.csrf = csrf;
    next();
  };
  return [csrfSynchronisedProtection, exposeToken];
}
