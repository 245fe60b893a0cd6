import type { Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { formSecret, formText } from '../../../platform/forms/index.js';
import { clientAddress, renewIdentity } from '../../../platform/http/index.js';
import { render } from '../../../platform/views/index.js';
import { can, STAFF_MENU, type StaffAction } from '../roles.js';
import type { StaffService, StaffUser } from './service.js';

declare module 'express-session' {
  interface SessionData {
    /** The staff member a staff session is logged in as (only ever in the staff session). */
    staff?: StaffUser;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The logged-in staff member, checked against the account on this request. */
      staff?: StaffUser;
    }
  }
}

const STRATEGY = 'staff-password';

/** Username + password against the staff accounts. */
class StaffPasswordStrategy extends passport.Strategy {
  override name = STRATEGY;

  constructor(private readonly service: StaffService) {
    super();
  }

  override authenticate(req: Request): void {
    const username = formText(req.body, 'username');
    const password = formSecret(req.body, 'password');
    if (!username || !password) return this.fail(400);
    this.service.logIn(username, password, { clientAddress: clientAddress(req) }).then(
      // passport types its user as the citizen's; this instance's user is a staff member, kept at session.staff.
      (user) => (user ? this.success(user as unknown as Express.User) : this.fail(400)),
      (err: unknown) => this.error(err as Error),
    );
  }
}

export interface StaffSessions {
  /** Sets req.staff from the session (ending a session whose account changed): before every staff route. */
  middleware: RequestHandler;
  authenticate(req: Request, res: Response): Promise<StaffUser | null>;
  /** A change of identity: new session id and browser binding, then the staff member. */
  logIn(req: Request, user: StaffUser): Promise<void>;
  /** The same staff member after their own password change (this session goes on). */
  keep(req: Request, user: StaffUser): void;
  requireStaff: RequestHandler;
  /** 403 with the reason, for a staff member whose role does not allow the action. */
  requirePermission(action: StaffAction): RequestHandler;
}

/** Staff sessions, through a Passport instance of their own; the user lives at `session.staff`, never `passport`. */
export function staffSessions(service: StaffService): StaffSessions {
  const instance = new passport.Passport();
  instance.use(STRATEGY, new StaffPasswordStrategy(service));

  return {
    async middleware(req, res, next) {
      try {
        const stored = req.session?.staff;
        if (stored) {
          const user = await service.current(stored);
          if (user) {
            req.staff = user;
            res.locals.staff = user;
            res.locals.staffMenu = STAFF_MENU.filter((item) => can(user.role, item.action));
            res.locals.can = (action: StaffAction) => can(user.role, action);
          } else {
            delete req.session.staff;
            res.locals.staffEnded = true;
          }
        }
        next();
      } catch (err) {
        next(err);
      }
    },
    authenticate(req, res) {
      return new Promise((resolve, reject) => {
        instance.authenticate(STRATEGY, { session: false }, (err: unknown, user: Express.User | false) => {
          if (err) return reject(err);
          resolve(user ? (user as unknown as StaffUser) : null);
        })(req, res, (err?: unknown) => (err ? reject(err) : undefined));
      });
    },
    async logIn(req, user) {
      await renewIdentity(req);
      req.session.staff = user;
    },
    keep(req, user) {
      req.session.staff = user;
      req.staff = user;
    },
    requireStaff(req, res, next) {
      if (req.staff) return next();
      res.redirect(303, `/intranet/login?login=${res.locals.staffEnded ? 'ended' : 'required'}`);
    },
    requirePermission(action) {
      return (req, res, next) => {
        if (req.staff && can(req.staff.role, action)) return next();
        render(req, res, 'intranet/forbidden', { action, role: req.staff?.role }, { status: 403 });
      };
    },
  };
}
