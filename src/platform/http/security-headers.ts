import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Security headers with a strict CSP: no inline script or style; forms may post to the reader agent
 * (the card read is a top-level form post to it) and the agent's status may be framed and polled.
 */
export function securityHeaders(options: { agentOrigin: string; secure: boolean }): RequestHandler {
  const agent = options.agentOrigin;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'", agent],
        frameSrc: [agent],
        formAction: ["'self'", agent],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(options.secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: options.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  });
}
