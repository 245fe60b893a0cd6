/** Field rules of the household registry; each returns the reason a value is wrong, or undefined. */

/** 戶號: exactly 8 uppercase letters or digits, e.g. F1234567 or 12345678. */
export function householdNumberError(value: string): string | undefined {
  const length = [...value].length; // characters, as the import's SQL twin counts them
  if (length !== 8) return `"${value}" must be 8 characters (found ${length})`;
  if (!/^[A-Z0-9]{8}$/.test(value)) return `"${value}" may hold only uppercase letters A–Z and digits`;
  return undefined;
}

/** 鄰: an integer 1–999 written in digits (leading zeros accepted, as some exports pad it). */
export function neighborhoodError(value: string): string | undefined {
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1) return `"${value}" must be a whole number from 1 to 999`;
  return undefined;
}

/** Village codes are 11 digits (county 5, township 3 more, village 3 more). */
export function villageCodeShapeError(value: string): string | undefined {
  return /^\d{11}$/.test(value) ? undefined : `"${value}" must be an 11-digit village code`;
}

export const PERSON_NAME_MAX = 40;
