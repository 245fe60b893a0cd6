import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** 縣市, loaded from data/tw-villages-*.csv by a migration. */
export const CountySchema = defineEntity({
  name: 'County',
  tableName: 'county',
  properties: {
    code: p.character().length(5).primary(),
    name: p.string().length(20),
  },
});

/** 鄉鎮市區. */
export const TownshipSchema = defineEntity({
  name: 'Township',
  tableName: 'township',
  properties: {
    code: p.character().length(8).primary(),
    county: () => p.manyToOne(CountySchema).mapToPk().index(),
    name: p.string().length(20),
  },
});

/** 村里. */
export const VillageSchema = defineEntity({
  name: 'Village',
  tableName: 'village',
  properties: {
    code: p.character().length(11).primary(),
    township: () => p.manyToOne(TownshipSchema).mapToPk().index(),
    name: p.string().length(20),
    nameEn: p.string().length(60),
  },
});

export type County = InferEntity<typeof CountySchema>;
export type Township = InferEntity<typeof TownshipSchema>;
export type Village = InferEntity<typeof VillageSchema>;
