import type { Request, RequestHandler, Response } from 'express';
import { formSecret } from '../../platform/forms/index.js';
import passport from 'passport';
import { clientAddress } from '../../platform/http/index.js';
import type { CardReads } from '../card-reads/index.js';
import type { CredentialsService, LoginRefusal, LoginUser } from './service.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // passport's req.user: who the session is logged in as.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends LoginUser {}
  }
}

export const STRATEGY = 'card-password';

/** The 'login' card read plus the registration password, checked by the credentials service. */
class CardPasswordStrategy extends passport.Strategy {
  override name = STRATEGY;

  constructor(private readonly service: CredentialsService, private readonly cardReads: CardReads) {
    super();
  }

  override authenticate(req: Request): void {
    const card = this.cardReads.verifiedCard(req, 'login');
    const password = formSecret(req.body, 'password');
    if (!card || !password) return this.fail({ reason: 'none' satisfies LoginRefusal }, 400);
    this.service.login(card, password, { clientAddress: clientAddress(req) }).then(
      (result) => (result.ok ? this.success(result.user) : this.fail({ reason: result.reason }, 400)),
      (err: unknown) => this.error(err as Error),
    );
  }
}

export interface LoginSessions {
  /** passport, the session user and the registration check: mounted before every citizen route. */
  middleware: RequestHandler[];
  /** Runs the strategy; resolves with the user or the refusal. */
  authenticate(req: Request, res: Response): Promise<{ user: LoginUser } | { reason: LoginRefusal }>;
  /** A change of identity (new session id and browser binding) carrying the user. */
  logIn(req: Request, user: LoginUser): Promise<void>;
  currentPerson(req: Request): LoginUser | undefined;
  /** The same person with a new epoch (after their own password change, this session goes on). */
  keepUser(req: Request, user: LoginUser): void;
  requireLogin: RequestHandler;
}

/** Login sessions through a Passport instance of our own (the card is the username, the registration the account). */
export function loginSessions(deps: { service: CredentialsService; cardReads: CardReads }): LoginSessions {
  const instance = new passport.Passport();
  instance.use(STRATEGY, new CardPasswordStrategy(deps.service, deps.cardReads));
  instance.serializeUser((user, done) => done(null, { idNumber: user.idNumber, epoch: user.epoch }));
  instance.deserializeUser((stored: LoginUser, done) => done(null, stored));

  /** A session whose registration is no longer active, or whose epoch a password change moved past, is logged out. */
  const stillCurrent: RequestHandler = async (req, _res, next) => {
    const user = req.user;
    if (!user) return next();
    try {
      if (await deps.service.isCurrent(user)) return next();
      req.logout({ keepSessionInfo: false }, (err) => {
        if (err) return next(err);
        // requireLogin tells the person why they are on the login page again.
        req.res!.locals.loginEnded = true;
        next();
      });
    } catch (err) {
      next(err);
    }
  };

  // Reading the session creates none: passport only looks at req.session.passport when the session exists.
  const middleware: RequestHandler[] = [instance.initialize(), instance.session(), stillCurrent];

  return {
    middleware,
    authenticate(req, res) {
      return new Promise((resolve, reject) => {
        instance.authenticate(STRATEGY, { session: false }, (err: unknown, user: LoginUser | false, info: { reason?: LoginRefusal } | undefined) => {
          if (err) return reject(err);
          resolve(user ? { user } : { reason: info?.reason ?? 'none' });
        })(req, res, (err?: unknown) => (err ? reject(err) : undefined));
      });
    },
    async logIn(req, user) {
      // passport's login regenerates the session id itself (keeping the data); the browser binding, and with it the
      // CSRF token, is renewed here.
      req.rotateBrowserBinding();
      await new Promise<void>((resolve, reject) => req.login(user, { session: true, keepSessionInfo: true }, (err) => (err ? reject(err) : resolve())));
    },
    currentPerson: (req) => req.user,
    keepUser(req, user) {
      (req.session as unknown as { passport: { user: LoginUser } }).passport = { user };
      req.user = user;
    },
    requireLogin(req, res, next) {
      if (req.user) return next();
      res.redirect(303, `/?login=${res.locals.loginEnded ? 'ended' : 'required'}`);
    },
  };
}
