// Rules of the registration form (SPEC.md "Register", seed 003 四): contacts and what a password may not be.
import { z } from 'zod';

/** The registration password of the seeds: 6–12 characters, no space, no < or >. Messages are catalogue keys. */
export const registrationPassword = z
  .string({ message: 'password.error.missing' })
  .min(1, 'password.error.missing')
  .min(6, 'password.error.length')
  .max(12, 'password.error.length')
  .regex(/^[^\s<>]+$/, 'password.error.chars');

/**
 * People here pick their ID number, birth date or card number: refused, whatever the case or the calendar
 * (1980-01-31 as 19800131, 0690131 or 690131 in the ROC calendar). Returns a catalogue key or undefined.
 */
export function personalPasswordError(password: string, person: { idNumber: string; birthDate: string; cardNumber: string }): string | undefined {
  const typed = password.toUpperCase();
  if (typed === person.idNumber.toUpperCase() || typed === person.idNumber.slice(1)) return 'password.error.isIdNumber';
  if (typed === person.cardNumber || (person.cardNumber.length === 12 && typed === person.cardNumber.replace(/^0+/, ''))) return 'password.error.isCardNumber';
  const [year, month, day] = person.birthDate.split('-');
  if (year && month && day) {
    const roc = String(Number(year) - 1911);
    const dates = [`${year}${month}${day}`, `${roc}${month}${day}`, `${roc.padStart(3, '0')}${month}${day}`, `${month}${day}${year}`, `${day}${month}${year}`];
    if (dates.includes(password.replace(/[-/.]/g, ''))) return 'password.error.isBirthDate';
  }
  return undefined;
}

/** 5 days (seed: 如您未於五日內完成健保卡註冊認證程序，本次申請註冊認證即為無效). */
export const CONFIRMATION_TTL_MS = 5 * 24 * 60 * 60 * 1000;
export const CONFIRM_TOKEN_PURPOSE = 'confirm';
/** The link of a registration made by an employer's bulk upload: 健保卡註冊認證作業, valid 5 days like the confirmation. */
export const ACTIVATE_TOKEN_PURPOSE = 'activate';
export const ACTIVATION_TTL_MS = CONFIRMATION_TTL_MS;

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A trimmed optional text: '' and absent are the same. */
const optionalText = z.string().trim().optional().transform((v) => v || undefined);

export const emailAddress = z.string({ message: 'registration.error.emailMissing' }).trim().min(1, 'registration.error.emailMissing').max(254, 'registration.error.emailInvalid').regex(EMAIL, 'registration.error.emailInvalid');
export const optionalEmail = optionalText.refine((v) => v === undefined || (v.length <= 254 && EMAIL.test(v)), 'registration.error.emailInvalid');
/** 09 and 8 digits (a Taiwanese mobile number). */
export const mobileNumber = z.string({ message: 'registration.error.mobileMissing' }).trim().min(1, 'registration.error.mobileMissing').regex(/^09\d{8}$/, 'registration.error.mobileInvalid');

/** Microsoft's consumer mail often refuses the agency's mail (seed: 建議不要填寫微軟e-mail信箱). */
export const isMicrosoftMail = (email: string): boolean => /@(hotmail|live|outlook|msn|livemail|passport)\.[a-z.]+$/i.test(email.trim());

/**
 * The local phone as three parts: (區碼)-號碼#分機. Area 2–4 digits starting 0, number 5–8 digits, extension up to
 * 6 digits; all empty is no phone. Returns the stored form `02-27065866#123`, undefined, or a catalogue key.
 */
export function localPhone(area: string, number: string, ext: string): { value?: string } | { error: string } {
  const [a, n, x] = [area.trim(), number.trim(), ext.trim()];
  if (!a && !n && !x) return {};
  if (!/^0\d{1,3}$/.test(a)) return { error: 'registration.error.phoneArea' };
  if (!/^\d{5,8}$/.test(n)) return { error: 'registration.error.phoneNumber' };
  if (x && !/^\d{1,6}$/.test(x)) return { error: 'registration.error.phoneExt' };
  return { value: `${a}-${n}${x ? `#${x}` : ''}` };
}

/** Splits a stored local phone back into its three fields (for the profile form). */
export function localPhoneParts(stored: string | null | undefined): { localPhoneArea: string; localPhoneNumber: string; localPhoneExt: string } {
  const m = /^(\d+)-(\d+)(?:#(\d+))?$/.exec(stored ?? '');
  return { localPhoneArea: m?.[1] ?? '', localPhoneNumber: m?.[2] ?? '', localPhoneExt: m?.[3] ?? '' };
}

/** 戶號: 8 characters, a letter or digit first then digits (戶口名簿封面左上角). */
export const householdNumber = z.string({ message: 'registration.error.householdMissing' }).trim().toUpperCase().min(1, 'registration.error.householdMissing').regex(/^[A-Z0-9]{8}$/, 'registration.error.householdInvalid');
