import { createHmac } from 'node:crypto';
import { doubleCsrf } from 'csrf-csrf';
import type { Request, RequestHandler } from 'express';
import { cookieName } from './browser-binding.js';

export interface CsrfOptions {
  /** Server secret the tokens are signed with (SESSION_SECRET, so every app process accepts every token). */
  secret: string;
  secure: boolean;
  /** Paths that carry their own protection (the signed card-read return). Matched on the whole path. */
  exempt: RegExp[];
}

/**
 * Signed double-submit CSRF tokens (csrf-csrf) bound to the browser-binding cookie: no session row is needed,
 * so anonymous pages write nothing, and rotating the binding when the identity changes rotates the token.
 * The token travels in the form field `_csrf`, or in the `X-CSRF-Token` header that HTMX requests send.
 * Exposes the token to templates as `csrf.token`.
 */
export function csrfProtection(options: CsrfOptions): RequestHandler[] {
  const secret = createHmac('sha256', options.secret).update('csrf').digest('base64url');
  const { doubleCsrfProtection, generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => req.browserBinding,
    cookieName: cookieName('nhi.csrf', options.secure),
    cookieOptions: { sameSite: 'lax', secure: options.secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req: Request) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof fromBody === 'string') return fromBody;
      return req.get('X-CSRF-Token') ?? undefined;
    },
    skipCsrfProtection: (req) => options.exempt.some((re) => re.test(req.path)),
    errorConfig: { statusCode: 403, message: 'invalid csrf token', code: 'EBADCSRFTOKEN' },
  });
  const exposeToken: RequestHandler = (req, res, next) => {
    // Lazily, once per response; a token made for an older binding fails its check and is replaced.
    // The layout reads `used` (after the page body rendered) to add the HTMX header only where a form needs it.
    let token: string | undefined;
    const csrf = {
      used: false,
      /** For a route exempt from the middleware that reads its own body (a multipart upload): is this token right? */
      accepts(token: string): boolean {
        const body = req.body;
        req.body = { _csrf: token };
        try {
          return validateRequest(req);
        } finally {
          req.body = body;
        }
      },
      get token(): string {
        csrf.used = true;
        token ??= generateCsrfToken(req, res);
        return token;
      },
    };
    res.locals.csrf = csrf;
    next();
  };
  return [doubleCsrfProtection, exposeToken];
}
