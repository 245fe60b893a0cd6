import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { VillageSchema } from './division.js';

/** A person of the household registry (戶政), as imported from persons.csv. */
export const PersonSchema = defineEntity({
  name: 'Person',
  tableName: 'person',
  properties: {
    /** National ID or resident certificate number. */
    idNumber: p.character().length(10).primary(),
    name: p.string().length(40),
    /** YYYY-MM-DD. */
    birthDate: p.date(),
    sex: p.enum(['M', 'F']),
    householdNumber: p.character().length(8),
    /**
     * No foreign-key constraint: the registry import (the only writer) checks every code against `village`,
     * and the per-row constraint check doubled the cost of loading persons (~8 µs a row, minutes for the country).
     */
    village: () => p.manyToOne(VillageSchema).mapToPk().createForeignKeyConstraint(false),
    neighborhood: p.smallint(),
  },
});

export type Person = InferEntity<typeof PersonSchema>;
