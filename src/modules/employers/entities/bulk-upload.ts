import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const BULK_UPLOAD_STATUSES = ['queued', 'processing', 'done', 'failed'] as const;
export type BulkUploadStatus = (typeof BULK_UPLOAD_STATUSES)[number];
export const BULK_FILE_FORMATS = ['csv', 'xlsx'] as const;
export const BULK_FILE_ENCODINGS = ['utf-8', 'utf-8-bom', 'big5'] as const;
export type BulkFileEncoding = (typeof BULK_FILE_ENCODINGS)[number];

/** 健保卡註冊申請整批資料上傳: one uploaded file, processed by a background job row by row. */
export const BulkUploadSchema = defineEntity({
  name: 'BulkUpload',
  tableName: 'bulk_upload',
  properties: {
    id: p.uuid().primary(),
    unitCode: p.character().length(8).index(),
    /** The clerk who uploaded it (their own uploads are what a clerk sees). */
    clerkIdNumber: p.character().length(10).index(),
    clerkName: p.string().length(100),
    clerkEmail: p.string().length(254),
    /** The name the file had on the clerk's PC, as given (shown, never used as a path). */
    fileName: p.string().length(255),
    /** The generated name under $DATA_DIR/uploads. */
    storedName: p.string().length(64),
    format: p.enum([...BULK_FILE_FORMATS]),
    /** Of a CSV; the result file is written in the same. */
    encoding: p.enum([...BULK_FILE_ENCODINGS]).nullable(),
    size: p.integer(),
    status: p.enum([...BULK_UPLOAD_STATUSES]),
    totalRows: p.integer(),
    /** Rows done: the job's checkpoint, moved in the transaction that writes their results. */
    processedRows: p.integer().default(0),
    accepted: p.integer().default(0),
    rejected: p.integer().default(0),
    /** The language of the clerk's result mail and of the activation mails. */
    locale: p.string().length(5),
    createdAt: p.datetime().index(),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    failure: p.string().length(200).nullable(),
  },
});

export type BulkUpload = InferEntity<typeof BulkUploadSchema>;

export const BULK_ROW_RESULTS = ['accepted', 'rejected'] as const;
export type BulkRowResult = (typeof BULK_ROW_RESULTS)[number];

/** One data row of an upload and what came of it (the screen's results and the result file read these). */
export const BulkUploadRowSchema = defineEntity({
  name: 'BulkUploadRow',
  tableName: 'bulk_upload_row',
  properties: {
    uploadId: p.uuid().primary(),
    /** The row's line in the file (the header is line 1), as the clerk's spreadsheet numbers it. */
    line: p.integer().primary(),
    /** The cells as given (cut to these lengths), escaped wherever shown or written. */
    idNumber: p.string().length(20),
    name: p.string().length(100),
    birthDate: p.string().length(20),
    email: p.string().length(254),
    mobile: p.string().length(20),
    result: p.enum([...BULK_ROW_RESULTS]),
    /** Why a row was rejected: a reason code (its words come from the catalogue). */
    reason: p.string().length(40).nullable(),
  },
  indexes: [{ properties: ['uploadId', 'result', 'line'] }, { properties: ['uploadId', 'idNumber'] }],
});

export type BulkUploadRow = InferEntity<typeof BulkUploadRowSchema>;
