/**
 * `npm run terminal -- enroll --id T-1a2b3c4d --public-key <base64url> --label "台北業務組 櫃台 3"` and
 * `npm run terminal -- revoke --id T-1a2b3c4d`: registers (or withdraws) a counter PC's reader agent, whose
 * terminal key signs reads of real cards. The id and key are what `npm run agent -- enroll` printed on that PC.
 */
import { parseArgs } from 'node:util';
import { TerminalEnrolmentError } from '../modules/card-reads/index.js';
import { runWithServices } from './run-with-services.js';

// A base64url key may begin with '-', which parseArgs would take for an option: such a value is joined to its flag.
const args = process.argv.slice(2).filter((a) => a !== '--');
for (let i = 0; i < args.length - 1; i++) {
  if (args[i] === '--public-key' && args[i + 1]!.startsWith('-')) args.splice(i, 2, `--public-key=${args[i + 1]}`);
}
const { values, positionals } = parseArgs({
  args,
  allowPositionals: true,
  options: { id: { type: 'string' }, 'public-key': { type: 'string' }, label: { type: 'string' } },
});
const command = positionals[0];
if ((command !== 'enroll' && command !== 'revoke') || !values.id || (command === 'enroll' && (!values['public-key'] || !values.label))) {
  console.error('usage: npm run terminal -- enroll --id T-xxxxxxxx --public-key KEY --label TEXT\n       npm run terminal -- revoke --id T-xxxxxxxx');
  process.exit(2);
}

await runWithServices(async (services) => {
  try {
    if (command === 'enroll') {
      const terminal = await services.readerTerminals.enroll({ terminalId: values.id!, publicKey: values['public-key']!, label: values.label! });
      console.log(`enrolled ${terminal.terminalId} (${terminal.label})`);
      return 0;
    }
    if (await services.readerTerminals.revoke(values.id!)) {
      console.log(`revoked ${values.id}`);
      return 0;
    }
    console.error(`${values.id} is not an enrolled terminal`);
    return 1;
  } catch (err) {
    if (!(err instanceof TerminalEnrolmentError)) throw err;
    console.error(err.message);
    return 1;
  }
});
