/**
 * `npm run terminal -- enroll --id T-1a2b3c4d --public-key <base64url> --label "台北業務組 櫃台 3"` and
 * `npm run terminal -- revoke --id T-1a2b3c4d`: registers (or withdraws) a counter PC's reader agent, whose
 * terminal key signs reads of real cards. The id and key are what `npm run agent -- enroll` printed on that PC.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { TerminalEnrolmentError } from '../modules/cards/index.js';
import { createServices } from '../services.js';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  allowPositionals: true,
  options: { id: { type: 'string' }, 'public-key': { type: 'string' }, label: { type: 'string' } },
});
const command = positionals[0];
if ((command !== 'enroll' && command !== 'revoke') || !values.id || (command === 'enroll' && (!values['public-key'] || !values.label))) {
  console.error('usage: npm run terminal -- enroll --id T-xxxxxxxx --public-key KEY --label TEXT\n       npm run terminal -- revoke --id T-xxxxxxxx');
  process.exit(2);
}

const services = await createServices(loadConfig(), { log: () => {} });
let code = 0;
try {
  if (command === 'enroll') {
    const t = await services.readerTerminals.enroll({ terminalId: values.id, publicKey: values['public-key']!, label: values.label! });
    console.log(`enrolled ${t.terminalId} (${t.label})`);
  } else if (await services.readerTerminals.revoke(values.id)) {
    console.log(`revoked ${values.id}`);
  } else {
    console.error(`${values.id} is not an enrolled terminal`);
    code = 1;
  }
} catch (err) {
  if (!(err instanceof TerminalEnrolmentError)) throw err;
  console.error(err.message);
  code = 1;
} finally {
  await services.close();
}
process.exit(code);
