export { importRegistryFile, headerError, RejectedRow, type FileReport, type RegistryFileSpec, type RegistryColumn, type RowCheck } from './engine.js';
export { importRegistryFolder, registryIsEmpty, registryFiles, formatReport, type FolderImportResult, type FolderImportOptions } from './folder.js';
export { isoDateError, textError, taipeiDate, EARLIEST_DATE } from './fields.js';
export { writeDemoRegistry, type DemoRegistryOptions, type DemoRegistryResult } from './demo.js';
