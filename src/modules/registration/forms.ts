import { z } from 'zod';
import { emailAddress, householdNumber, mobileNumber, optionalEmail, registrationPassword } from './rules.js';

/** The identity step's own field; the address comes from the household module's parseAddress. */
export const identityForm = z.object({ householdNumber });

/** The credentials step. The local phone's three parts are checked together by localPhone(). */
export const credentialsForm = z
  .object({
    password: registrationPassword,
    passwordConfirm: z.string({ message: 'password.error.confirmMissing' }).min(1, 'password.error.confirmMissing'),
    localPhoneArea: z.string().default(''),
    localPhoneNumber: z.string().default(''),
    localPhoneExt: z.string().default(''),
    mobile: mobileNumber,
    email: emailAddress,
    spareEmail: optionalEmail,
  })
  .refine((f) => f.password === f.passwordConfirm, { path: ['passwordConfirm'], message: 'password.error.mismatch' });

export type CredentialsForm = z.infer<typeof credentialsForm>;

/** 健保卡註冊認證作業: the registration password twice (the card comes from the panel). */
export const activationForm = z
  .object({
    password: registrationPassword,
    passwordConfirm: z.string({ message: 'password.error.confirmMissing' }).min(1, 'password.error.confirmMissing'),
  })
  .refine((f) => f.password === f.passwordConfirm, { path: ['passwordConfirm'], message: 'password.error.mismatch' });

/** Option b of resend and forgot: a new address, proven by 戶籍鄉鎮里鄰 (household module) and the stored mobile. */
export const newEmailForm = z.object({ email: emailAddress, mobile: mobileNumber });
