/**
 * 投保單位代號 (insured unit code): exactly 8 digits, as on the unit's enrolment documents and in the
 * uploads employers send. Letters, separators and other lengths are refused rather than normalised.
 */
export function unitCodeError(value: string): string | undefined {
  return /^\d{8}$/.test(value) ? undefined : `"${value}" must be exactly 8 digits`;
}

/** Unit names are longer than person names (e.g. 財團法人… foundations). */
export const UNIT_NAME_MAX = 100;
