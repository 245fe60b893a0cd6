// The generic import engine only: which files a registry folder holds is the registry module's business.
export { importRegistryFile, headerError, formatReport, RejectedRow, type FileReport, type RegistryFileSpec } from './engine.js';
export { isoDateError, textError, taipeiDate, EARLIEST_DATE } from './fields.js';
