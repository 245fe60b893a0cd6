import type { FieldError } from '../../platform/forms/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import type { CountyInfo, DivisionsService, TownshipInfo, VillageInfo } from './divisions.js';
import { neighborhoodError } from './rules.js';

/** What the person picked or typed in the 戶籍鄉鎮里鄰 fields, as posted or sent by HTMX. */
export interface AddressInput {
  county?: string;
  township?: string;
  village?: string;
  neighborhood?: string;
}

/** The lists of the address picker and what stays picked; the `views/household/_address.eta` partial reads it. */
export interface AddressChoices {
  counties: CountyInfo[];
  townships: TownshipInfo[];
  villages: VillageInfo[];
  /** Codes still valid for the lists above; '' where nothing (or something that no longer belongs) was picked. */
  picked: { county: string; township: string; village: string };
  /** The 鄰 as typed, to show again. */
  neighborhood: string;
}

export interface AddressValue {
  villageCode: string;
  neighborhood: number;
}

export type AddressResult = { ok: true; value: AddressValue } | { ok: false; errors: FieldError[] };

/** The partial's 更新選項 button (name=refresh value=address): the form asks for the next list, nothing is checked or saved. */
export const wantsAddressRefresh = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && (body as Record<string, unknown>).refresh === 'address';

/** The address fields of a body or query; a repeated or non-text field counts as absent. */
export function addressInput(source: unknown): AddressInput {
  const record = typeof source === 'object' && source !== null ? (source as Record<string, unknown>) : {};
  const text = (name: string) => (typeof record[name] === 'string' ? (record[name] as string).trim() : undefined);
  return { county: text('county'), township: text('township'), village: text('village'), neighborhood: text('neighborhood') };
}

/**
 * The county → township → village lists for what is picked. Each level is loaded only under a valid parent,
 * and a pick that does not belong to its parent (the county changed since) is dropped, never shown as chosen.
 */
export async function addressChoices(divisions: DivisionsService, picked: AddressInput): Promise<AddressChoices> {
  const counties = await divisions.counties();
  const county = counties.some((c) => c.code === picked.county) ? picked.county! : '';
  const townships = county ? await divisions.townships(county) : [];
  const township = townships.some((x) => x.code === picked.township) ? picked.township! : '';
  const villages = township ? await divisions.villages(township) : [];
  const village = villages.some((v) => v.code === picked.village) ? picked.village! : '';
  return { counties, townships, villages, picked: { county, township, village }, neighborhood: picked.neighborhood ?? '' };
}

/**
 * Validates the posted address: the village must be a known village of the picked township and county, the 鄰
 * 1–999 in digits. Errors are on the fields `village` and `neighborhood`, their messages translated by `t`.
 */
export async function parseAddress(divisions: DivisionsService, body: unknown, t: Translate): Promise<AddressResult> {
  const input = addressInput(body);
  const errors: FieldError[] = [];
  if (!input.village) {
    errors.push({ field: 'village', message: t('address.error.villageMissing') });
  } else {
    const place = await divisions.findVillage(input.village);
    // With JS off the lists refresh only on 更新選項, so a village of the county picked before is possible here.
    if (!place || place.township.code !== input.township || place.county.code !== input.county) {
      errors.push({ field: 'village', message: t('address.error.villageUnknown') });
    }
  }
  const neighborhood = input.neighborhood ?? '';
  if (!neighborhood) errors.push({ field: 'neighborhood', message: t('address.error.neighborhoodMissing') });
  else if (neighborhoodError(neighborhood)) errors.push({ field: 'neighborhood', message: t('address.error.neighborhoodInvalid') });
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { villageCode: input.village!, neighborhood: Number(neighborhood) } };
}
