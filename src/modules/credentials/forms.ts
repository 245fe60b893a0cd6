import { z } from 'zod';
import { emailAddress, mobileNumber, optionalEmail, registrationPassword } from '../registration/index.js';

/** The login form's field: a registration password by registration's own rule; the card comes from the panel. */
export const loginForm = z.object({ password: registrationPassword });

/** A new password twice (reset and 註冊密碼變更): registration's rules; the personal ones are checked by the service. */
export const newPasswordForm = z
  .object({
    password: registrationPassword,
    passwordConfirm: z.string({ message: 'password.error.confirmMissing' }).min(1, 'password.error.confirmMissing'),
  })
  .refine((f) => f.password === f.passwordConfirm, { path: ['passwordConfirm'], message: 'password.error.mismatch' });

/** 基本資料異動; the local phone's three parts are checked together by localPhone(). */
export const profileForm = z.object({
  email: emailAddress,
  spareEmail: optionalEmail,
  mobile: mobileNumber,
  localPhoneArea: z.string().default(''),
  localPhoneNumber: z.string().default(''),
  localPhoneExt: z.string().default(''),
});
