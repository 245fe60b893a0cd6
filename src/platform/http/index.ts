export { securityHeaders } from './security-headers.js';
export { sessions, renewIdentity, SESSION_COOKIE, STAFF_SESSION_COOKIE, type SessionOptions } from './session.js';
export { browserBinding, cookieName, type BrowserBinding } from './browser-binding.js';
export { csrfProtection, type CsrfOptions } from './csrf.js';
export { clientAddress } from './client.js';
export { serviceHoursGate, isWithinServiceHours } from './service-hours.js';
export { detectBrowser, type BrowserInfo } from './browser.js';
export { createRateLimits, limitByAddress, RATE_LIMITS, RATE_LIMIT_TABLE, type RateLimit, type RateLimitName, type RateLimits, type RateLimitOptions } from './rate-limit.js';
export { addressList, onlyFrom, type AddressList } from './network.js';
