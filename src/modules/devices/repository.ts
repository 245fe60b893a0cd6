import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { DeviceBindingSchema, type DeviceBinding, type DeviceStatus } from './entities/device-binding.js';
import { DeviceCodeSchema } from './entities/device-code.js';

/** Device codes: every change is one conditional statement, so two processes cannot both use one code. */
/** The daily housekeeping: codes expired more than a day ago (a code is good for minutes). Returns how many. */
export async function deleteExpiredDeviceCodes(em: EntityManager, now: Date): Promise<number> {
  return em.nativeDelete(DeviceCodeSchema, { expiresAt: { $lt: new Date(now.getTime() - 24 * 60 * 60 * 1000) } });
}

export const deviceCodes = {
  /** Voids the person's open codes (a new one was generated). */
  supersede(em: EntityManager, idNumber: string, at: Date): Promise<number> {
    return em.nativeUpdate(DeviceCodeSchema, { idNumber, usedAt: null, supersededAt: null }, { supersededAt: at });
  },

  async insert(em: EntityManager, row: { hash: string; idNumber: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    await em.insert(DeviceCodeSchema, { ...row, usedAt: null, supersededAt: null });
  },

  /** Uses the code if it is open and unexpired; the person's ID number, or null. */
  async consume(em: EntityManager, hash: string, at: Date): Promise<string | null> {
    const claimed = await em.nativeUpdate(DeviceCodeSchema, { hash, usedAt: null, supersededAt: null, expiresAt: { $gt: at } }, { usedAt: at });
    if (claimed !== 1) return null;
    const row = await em.findOne(DeviceCodeSchema, { hash }, { disableIdentityMap: true });
    return row?.idNumber ?? null;
  },
};

/** Device bindings, per person and device ID. */
export const deviceBindings = {
  /** The person's devices bound since `since` (the registration's start) and not deleted, newest first. */
  listFor(em: EntityManager, idNumber: string, since: Date): Promise<DeviceBinding[]> {
    return em.find(
      DeviceBindingSchema,
      { idNumber, deletedAt: null, verifiedAt: { $gte: since } },
      { orderBy: { verifiedAt: 'desc', id: 'asc' }, disableIdentityMap: true },
    );
  },

  byId(em: EntityManager, id: string): Promise<DeviceBinding | null> {
    return em.findOne(DeviceBindingSchema, { id }, { disableIdentityMap: true });
  },

  byDevice(em: EntityManager, idNumber: string, deviceId: string): Promise<DeviceBinding | null> {
    return em.findOne(DeviceBindingSchema, { idNumber, deviceId }, { disableIdentityMap: true });
  },

  /**
   * Binds (or binds again) the device to the person: a new id and token, active. The earlier binding of the same
   * person and device, deleted or not, is replaced, and with its id go the access tokens made for it.
   */
  async bind(em: EntityManager, row: { idNumber: string; deviceId: string; platform: string; model: string; tokenHash: string; at: Date }): Promise<DeviceBinding> {
    await em.nativeDelete(DeviceBindingSchema, { idNumber: row.idNumber, deviceId: row.deviceId });
    const binding: DeviceBinding = {
      id: randomUUID(),
      idNumber: row.idNumber,
      deviceId: row.deviceId,
      platform: row.platform,
      model: row.model,
      tokenHash: row.tokenHash,
      verifiedAt: row.at,
      status: 'active',
      updatedAt: row.at,
      deletedAt: null,
    };
    await em.insert(DeviceBindingSchema, binding);
    return binding;
  },

  /** Moves a live binding of the person from one status to another; whether it did. */
  async setStatus(em: EntityManager, idNumber: string, id: string, to: DeviceStatus, at: Date): Promise<boolean> {
    const from: DeviceStatus = to === 'active' ? 'disabled' : 'active';
    return (await em.nativeUpdate(DeviceBindingSchema, { id, idNumber, status: from, deletedAt: null }, { status: to, updatedAt: at })) === 1;
  },

  /** Every enabled binding of the person disabled (a suspension); how many. */
  async disableAll(em: EntityManager, idNumber: string, at: Date): Promise<number> {
    return em.nativeUpdate(DeviceBindingSchema, { idNumber, status: 'active', deletedAt: null }, { status: 'disabled', updatedAt: at });
  },

  async markDeleted(em: EntityManager, idNumber: string, id: string, at: Date): Promise<boolean> {
    return (await em.nativeUpdate(DeviceBindingSchema, { id, idNumber, deletedAt: null }, { deletedAt: at, updatedAt: at })) === 1;
  },
};
