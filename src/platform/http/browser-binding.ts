import { randomBytes } from 'node:crypto';
import { parseCookie } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    /** A random value in a cookie of this browser: what card-read challenges and CSRF tokens are bound to. */
    browserBinding: string;
    /** Gives this browser a new binding (see BrowserBinding.rotate). */
    rotateBrowserBinding(): void;
  }
}

const BINDING = /^[A-Za-z0-9_-]{43}$/;

/** `__Host-` under HTTPS: the cookie can then be set only by this origin, over TLS, for the whole site. */
export const cookieName = (name: string, secure: boolean): string => (secure ? `__Host-${name}` : name);

export interface BrowserBinding {
  middleware: RequestHandler;
  cookieName: string;
}

/**
 * Parses cookies into `req.cookies` and gives every browser a binding cookie, set when a page first needs it.
 * It costs no database write, so an anonymous page view stores nothing. A new value (identity changed) makes
 * the challenges and CSRF tokens made for the old one stop working.
 */
export function browserBinding(options: { secure: boolean }): BrowserBinding {
  const name = cookieName('nhi.bind', options.secure);
  const set = (req: Request, res: Response): string => {
    const value = randomBytes(32).toString('base64url');
    Object.defineProperty(req, 'browserBinding', { value, configurable: true, enumerable: true });
    (req.cookies as Record<string, string>)[name] = value;
    res.cookie(name, value, { httpOnly: true, sameSite: 'lax', secure: options.secure, path: '/' });
    return value;
  };
  return {
    cookieName: name,
    middleware(req, res, next) {
      req.cookies = req.headers.cookie ? (parseCookie(req.headers.cookie) as Record<string, string>) : {};
      const value = (req.cookies as Record<string, string | undefined>)[name];
      req.rotateBrowserBinding = () => void set(req, res);
      // Made on first use only: the agent's cross-site post back must not replace the browser's cookie.
      if (value && BINDING.test(value)) Object.defineProperty(req, 'browserBinding', { value, configurable: true, enumerable: true });
      else Object.defineProperty(req, 'browserBinding', { get: () => set(req, res), configurable: true, enumerable: true });
      next();
    },
  };
}
