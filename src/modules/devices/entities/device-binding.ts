import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const DEVICE_STATUSES = ['active', 'disabled'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/**
 * A device bound to one person (行動裝置管理作業): one row per person and device ID, so one device may serve many
 * persons. A deleted binding keeps its row (deletedAt) so the app can be told "device disabled", not "unknown".
 */
export const DeviceBindingSchema = defineEntity({
  name: 'DeviceBinding',
  tableName: 'device_binding',
  properties: {
    /** New at every binding: access tokens name it, so binding the device again voids the earlier ones. */
    id: p.uuid().primary(),
    idNumber: p.character().length(10),
    deviceId: p.string().length(100),
    platform: p.string().length(20),
    model: p.string().length(100),
    /** SHA-256 of the device token the app keeps, base64url. */
    tokenHash: p.character().length(43),
    verifiedAt: p.datetime(),
    status: p.enum([...DEVICE_STATUSES]),
    updatedAt: p.datetime(),
    deletedAt: p.datetime().nullable(),
  },
  uniques: [{ properties: ['idNumber', 'deviceId'] }],
});

export type DeviceBinding = InferEntity<typeof DeviceBindingSchema>;
