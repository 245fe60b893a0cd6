import { Router } from 'express';
import type { IntranetParts } from './parts.js';

export function adminRouter(_parts: IntranetParts): Router {
  return Router();
}
