import type { z } from 'zod';
import type { Translate } from '../i18n/index.js';
export { passwordStrength, type PasswordStrength } from './password-strength.js';

/** One rejected input: the field's id/name and the message shown beside it and in the error summary. */
export interface FieldError {
  field: string;
  message: string;
}

export type FormResult<T> =
  | { ok: true; value: T }
  | { ok: false; errors: FieldError[]; /** What the person typed, to show again (never secrets). */ values: Record<string, string> };

/** Fields whose content is never sent back to the page: a re-rendered form leaves them empty. */
const SECRET_FIELD = /password|passwd|pin|code|captcha|_csrf/i;

/**
 * Validates a posted form with a zod schema whose messages are catalogue keys. Returns the parsed value, or
 * one error per field (the first problem of each, in form order) with the values to re-render.
 */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown, t: Translate): FormResult<z.infer<S>> {
  const input = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    if (errors.some((e) => e.field === field)) continue;
    errors.push({ field, message: t(issue.message) });
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === 'string' && !SECRET_FIELD.test(key)) values[key] = value;
  }
  return { ok: false, errors, values };
}

/** A posted field as trimmed text: '' when absent, repeated or not text (what a person typed, before any check). */
export function formText(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.trim() : '';
}

/** A posted password as typed: never trimmed (spaces count); '' when absent, repeated or not text. */
export function formSecret(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

/** The error for one field, for the field component. */
export function errorFor(errors: FieldError[] | undefined, field: string): string | undefined {
  return errors?.find((e) => e.field === field)?.message;
}
