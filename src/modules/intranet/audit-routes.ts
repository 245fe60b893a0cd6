import { Router } from 'express';
import type { IntranetParts } from './parts.js';

export function auditRouter(_parts: IntranetParts): Router {
  return Router();
}
