/**
 * The registry module: the folder layout of the household, card and enrolment registry files (assembled from
 * those modules' import specs) and the demo registry generator, on the generic engine of platform/registry-import.
 */
export { importRegistryFolder, registryIsEmpty, registryFiles, type FolderImportResult, type FolderImportOptions } from './folder.js';
export { writeDemoRegistry, DEMO_UNITS, type DemoRegistryOptions, type DemoRegistryResult } from './demo.js';
export { demoSecret, DEMO_SECRET_FILE } from './secret.js';
export { refuseDemoInProduction, isDemoRegistry, DemoRefusedError, DEMO_MARKER_FILE } from './guard.js';
