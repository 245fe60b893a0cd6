import { z } from 'zod';

/** The registration password rules of the seeds: 6–12 characters, no space, no < or >. Messages are catalogue keys. */
export const registrationPassword = z
  .string({ message: 'login.error.passwordMissing' })
  .min(1, 'login.error.passwordMissing')
  .min(6, 'login.error.passwordLength')
  .max(12, 'login.error.passwordLength')
  .regex(/^[^\s<>]+$/, 'login.error.passwordChars');

export const loginForm = z.object({ password: registrationPassword });
