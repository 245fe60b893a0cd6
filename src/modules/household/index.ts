import type { Orm } from '../../platform/db/index.js';
import { defineModule, type PlatformDeps } from '../../platform/module.js';
import { DivisionsService } from './divisions.js';
import { householdMessages } from './messages.js';
import { addressRouter } from './routes.js';
import { CountySchema, TownshipSchema, VillageSchema } from './entities/division.js';
import { PersonSchema } from './entities/person.js';
import { TableHouseholdRegistry, type HouseholdRegistry } from './registry.js';

export { DivisionsService, type CountyInfo, type TownshipInfo, type VillageInfo, type VillagePlace } from './divisions.js';
export {
  TableHouseholdRegistry,
  RegistryUnavailableError,
  type HouseholdRegistry,
  type HouseholdFacts,
  type HouseholdCheckResult,
  type PersonRecord,
} from './registry.js';
export { idNumberError, isValidIdNumber, idNumberKind, idCheckDigit, sexOfIdNumber, type IdNumberKind } from './id-number.js';
export { householdNumberError, neighborhoodError, villageCodeShapeError, PERSON_NAME_MAX } from './rules.js';
export { holderInHouseholdRegistry, personsFile } from './import.js';
export {
  addressChoices,
  wantsAddressRefresh,
  addressInput,
  parseAddress,
  type AddressChoices,
  type AddressInput,
  type AddressValue,
  type AddressResult,
} from './address.js';

export const householdEntities = [CountySchema, TownshipSchema, VillageSchema, PersonSchema];

/**
 * The household module: administrative divisions and the household registry. `registry` may be replaced by
 * a live 戶政 service implementing HouseholdRegistry.
 */
export function createHouseholdModule(deps: { orm: Orm; registry?: HouseholdRegistry }) {
  return {
    divisions: new DivisionsService(deps.orm),
    registry: deps.registry ?? new TableHouseholdRegistry(deps.orm),
  };
}

/**
 * The household module's definition; `household` in ServiceOverrides.modules replaces the registry. Its web part
 * is the address picker's fragment (views/household/_address.eta), embedded by the forms that ask for 戶籍鄉鎮里鄰.
 */
export const householdModule = defineModule({
  name: 'household',
  entities: householdEntities,
  messages: householdMessages,
  create: (deps: PlatformDeps & { override?: HouseholdRegistry }) => {
    const api = createHouseholdModule({ orm: deps.orm, registry: deps.override });
    return { web: { citizenRouter: addressRouter({ divisions: api.divisions }) }, api };
  },
});
