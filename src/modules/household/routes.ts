import { Router } from 'express';
import { errorFor } from '../../platform/forms/index.js';
import { render } from '../../platform/views/index.js';
import { addressChoices, addressInput } from './address.js';
import type { DivisionsService } from './divisions.js';

/** The address picker's HTMX endpoint: the fieldset again, its lists refilled for what is picked. Reads only. */
export function addressRouter(deps: { divisions: DivisionsService }): Router {
  const router = Router();
  router.get('/address-fields', async (req, res) => {
    const address = await addressChoices(deps.divisions, addressInput(req.query));
    // Only HTMX calls it, so the fragment is the whole answer either way.
    render(req, res, 'household/_address', { address, errors: [], errorFor });
  });
  return router;
}
