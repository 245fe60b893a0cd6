import { Router } from 'express';
import type { IntranetParts } from './parts.js';

export function announcementsRouter(_parts: IntranetParts): Router {
  return Router();
}
