import { Router } from 'express';
import type { IntranetParts } from './parts.js';

export function employersRouter(_parts: IntranetParts): Router {
  return Router();
}
