import { createRequire } from 'node:module';
import { join } from 'node:path';
import { publicDir } from '../paths.js';

export type PasswordStrength = 'weak' | 'medium' | 'medium-strong' | 'strong';

// One rule for both sides: the server runs the very script the browser's strength indicator runs.
const shared = createRequire(import.meta.url)(join(publicDir, 'js', 'password-strength.js')) as {
  strength(password: string): PasswordStrength;
};

/** The level of a password, as the registration page's live indicator (弱 / 中 / 中強 / 強) shows it. */
export function passwordStrength(password: string): PasswordStrength {
  return shared.strength(password);
}
