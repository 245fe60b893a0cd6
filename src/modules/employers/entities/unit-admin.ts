import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** A unit's admin for the employer portal: designated (or replaced) by counter staff, one per unit. */
export const UnitAdminSchema = defineEntity({
  name: 'UnitAdmin',
  tableName: 'employer_unit_admin',
  properties: {
    unitCode: p.character().length(8).primary(),
    /** A registered person's ID number. */
    idNumber: p.character().length(10).index(),
    designatedAt: p.datetime(),
    /** The staff member's username. */
    designatedBy: p.string().length(32),
  },
});

export type UnitAdmin = InferEntity<typeof UnitAdminSchema>;
