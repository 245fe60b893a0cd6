import type { Orm } from '../../platform/db/index.js';
import { CountySchema, TownshipSchema, VillageSchema } from './entities/division.js';

export interface CountyInfo {
  code: string;
  name: string;
}
export interface TownshipInfo {
  code: string;
  name: string;
  countyCode: string;
}
export interface VillageInfo {
  code: string;
  name: string;
  nameEn: string;
  townshipCode: string;
}
/** A village with the names of its township and county, e.g. for 臺北市松山區莊敬里. */
export interface VillagePlace extends VillageInfo {
  township: TownshipInfo;
  county: CountyInfo;
}

/** The administrative divisions (縣市 / 鄉鎮市區 / 村里), ordered by code. */
export class DivisionsService {
  constructor(private readonly orm: Orm) {}

  async counties(): Promise<CountyInfo[]> {
    const rows = await this.orm.em.fork().find(CountySchema, {}, { orderBy: { code: 'asc' } });
    return rows.map((c) => ({ code: c.code, name: c.name }));
  }

  async townships(countyCode: string): Promise<TownshipInfo[]> {
    const rows = await this.orm.em.fork().find(TownshipSchema, { county: countyCode }, { orderBy: { code: 'asc' } });
    return rows.map(toTownship);
  }

  async villages(townshipCode: string): Promise<VillageInfo[]> {
    const rows = await this.orm.em.fork().find(VillageSchema, { township: townshipCode }, { orderBy: { code: 'asc' } });
    return rows.map(toVillage);
  }

  async villageExists(code: string): Promise<boolean> {
    return (await this.orm.em.fork().count(VillageSchema, { code })) > 0;
  }

  async findCounty(code: string): Promise<CountyInfo | null> {
    const c = await this.orm.em.fork().findOne(CountySchema, { code });
    return c && { code: c.code, name: c.name };
  }

  async findTownship(code: string): Promise<TownshipInfo | null> {
    const t = await this.orm.em.fork().findOne(TownshipSchema, { code });
    return t && toTownship(t);
  }

  /** The village with its township's and county's names. */
  async findVillage(code: string): Promise<VillagePlace | null> {
    const em = this.orm.em.fork();
    const v = await em.findOne(VillageSchema, { code });
    if (!v) return null;
    const t = await em.findOneOrFail(TownshipSchema, { code: v.township });
    const c = await em.findOneOrFail(CountySchema, { code: t.county });
    return { ...toVillage(v), township: toTownship(t), county: { code: c.code, name: c.name } };
  }
}

const toTownship = (t: { code: string; name: string; county: string }): TownshipInfo => ({ code: t.code, name: t.name, countyCode: t.county });
const toVillage = (v: { code: string; name: string; nameEn: string; township: string }): VillageInfo =>
  ({ code: v.code, name: v.name, nameEn: v.nameEn, townshipCode: v.township });
