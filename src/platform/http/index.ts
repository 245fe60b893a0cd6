export { securityHeaders } from './security-headers.js';
export { sessions, type SessionOptions } from './session.js';
export { csrfProtection, type CsrfOptions } from './csrf.js';
export { clientAddress } from './client.js';
