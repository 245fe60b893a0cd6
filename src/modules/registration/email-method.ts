import type { Request } from 'express';
import { errorFor, parseForm, formText, type FieldError } from '../../platform/forms/index.js';
import type { Translate } from '../../platform/i18n/index.js';
import type { CardReads, VerifiedCard } from '../card-reads/index.js';
import { addressChoices, addressInput, parseAddress, type DivisionsService } from '../household/index.js';
import { newEmailForm } from './forms.js';
import type { EmailChangeProof } from './service.js';


/**
 * The step 重寄認證信 and 忘記註冊密碼 share (views/components/email-method.eta): the card, then (a) the stored
 * address or (b) a new one proven by 戶籍鄉鎮里鄰 and the stored mobile.
 */
export function emailMethodStep(deps: { divisions: DivisionsService; cardReads: CardReads }, purpose: string, returnTo: string) {
  return {
    /** The page's data, with what was typed (never a password) and the address lists for it. */
    async page(req: Request, body: unknown, errors: FieldError[] = []) {
      return {
        errors,
        hasErrors: errors.length > 0,
        errorFor,
        values: { method: formText(body, 'method') || 'stored', email: formText(body, 'email'), mobile: formText(body, 'mobile') },
        address: await addressChoices(deps.divisions, addressInput(body)),
        cardPanel: await deps.cardReads.panel(req, { purpose, returnTo }),
      };
    },

    /** The read card and, for option b, the proof; or the errors to show beside the fields. */
    async submit(req: Request, t: Translate): Promise<{ card: VerifiedCard; proof?: EmailChangeProof } | { errors: FieldError[] }> {
      const proof = await emailChangeProof(deps.divisions, req.body, t);
      const errors = [...proof.errors];
      const card = deps.cardReads.verifiedCard(req, purpose);
      if (!card) errors.unshift({ field: `card-panel-${purpose}`, message: t('registration.error.noCard') });
      return errors.length || !card ? { errors } : { card, proof: proof.value };
    },
  };
}

/** Option b's fields when chosen (method=change), else nothing to check. */
export async function emailChangeProof(divisions: DivisionsService, body: unknown, t: Translate): Promise<{ value?: EmailChangeProof; errors: FieldError[] }> {
  if (formText(body, 'method') !== 'change') return { errors: [] };
  const form = parseForm(newEmailForm, body, t);
  const address = await parseAddress(divisions, body, t);
  const errors = [...(form.ok ? [] : form.errors), ...(address.ok ? [] : address.errors)];
  if (!form.ok || !address.ok) return { errors };
  return { value: { email: form.value.email, mobile: form.value.mobile, ...address.value }, errors };
}
