import { Router } from 'express';
import type { IntranetParts } from './parts.js';

export function counterRouter(_parts: IntranetParts): Router {
  return Router();
}
