export { securityHeaders } from './security-headers.js';
export { sessions, type SessionOptions } from './session.js';
export { csrfProtection, type CsrfOptions } from './csrf.js';
export { clientAddress } from './client.js';
export { serviceHoursGate, isWithinServiceHours } from './service-hours.js';
export { detectBrowser, type BrowserInfo } from './browser.js';
