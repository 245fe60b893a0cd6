import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** 承保: a unit (投保單位) insures, or once insured, a person. Imported from enrollments.csv. */
export const EnrollmentSchema = defineEntity({
  name: 'Enrollment',
  tableName: 'enrollment',
  properties: {
    idNumber: p.character().length(10).primary(),
    unitCode: p.character().length(8).primary(),
    unitName: p.string().length(100),
    /** True while the unit currently insures the person. */
    insured: p.boolean(),
  },
});

export type Enrollment = InferEntity<typeof EnrollmentSchema>;
