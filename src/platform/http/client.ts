import type { Request } from 'express';

/** The client's address as Express resolved it (honours `trust proxy`), IPv4-mapped IPv6 unwrapped. */
export function clientAddress(req: Request): string {
  const ip = req.ip ?? req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
