import type { Request } from 'express';
import type { Identity } from './service.js';

/** What the person typed on the identity step (kept for going back; checked again on every submit). */
export interface EnteredIdentity {
  householdNumber?: string;
  county?: string;
  township?: string;
  village?: string;
  neighborhood?: string;
}

/** What the person typed on the credentials step, never the passwords. */
export interface EnteredContacts {
  localPhoneArea?: string;
  localPhoneNumber?: string;
  localPhoneExt?: string;
  mobile?: string;
  email?: string;
  spareEmail?: string;
}

/** The registration steps a session has passed: each step needs the one before, so none can be skipped. */
export interface RegistrationFlow {
  termsAcceptedAt: number;
  entered?: EnteredIdentity;
  identity?: Identity;
  contacts?: EnteredContacts;
}

declare module 'express-session' {
  interface SessionData {
    registration?: RegistrationFlow;
    /** The address the confirmation went to, for the 您已完成申請 page (one showing). */
    registrationApplied?: { email: string };
  }
}

export const flowOf = (req: Request): RegistrationFlow | undefined => req.session?.registration;
