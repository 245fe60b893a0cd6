import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HouseholdRegistry } from '../../src/modules/household/index.js';
import { entities, MODULES } from '../../src/services.js';
import { useTestApp } from '../helpers/app.js';

// The composition root builds every module from its one definition (src/services.ts MODULES).
describe('modules from their definitions', () => {
  const live: HouseholdRegistry = { check: async () => 'match', findPerson: async () => null, findPersons: async () => new Map() };
  const t = useTestApp({ modules: { household: live } });

  test('a replacement household registry (a live 戶政 service) is the one the app uses', () => {
    assert.equal(t.services.api.household.registry, live);
  });

  test('every module is mounted in list order, and every entity a module declares is mapped', () => {
    assert.deepEqual(t.services.modules.map((m) => m.name), [...MODULES.map((m) => m.name), 'dev-mailbox']);
    const mapped = new Set(Object.values(t.services.orm.getMetadata().getAll()).map((meta) => meta.className));
    for (const schema of entities) assert.ok(mapped.has(schema.meta.className), schema.meta.className);
  });

  test('the card reads accept exactly the purposes the modules declare', () => {
    const staff = MODULES.flatMap((m) => ('staffCardReadPurposes' in m ? m.staffCardReadPurposes : undefined) ?? []);
    const declared = [...MODULES.flatMap((m) => m.cardReadPurposes ?? []), ...staff];
    assert.deepEqual([...t.services.api.cardReads.service.purposes].sort(), [...new Set(declared)].sort());
    assert.deepEqual([...t.services.api.cardReads.service.staffPurposes], ['counter'], 'the counter is the one staff purpose');
    assert.ok(declared.includes('login') && declared.includes('env-check'));
  });

  test("a module's mail template renders with the subject from its own catalogue", () => {
    const data = { clerkName: '王小明', unitCode: '12345678', fileName: 'staff.csv', uploadedAt: new Date(), total: 2, accepted: 1, rejected: 1 };
    assert.equal(t.services.mail.render('bulk-upload-result', 'zh-TW', data).subject, '健保卡網路服務註冊-整批註冊申請上傳結果');
  });
});
