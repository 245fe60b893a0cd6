/**
 * `npm run staff:create -- --username NAME --role clerk|supervisor|admin`: a counter staff account (the first admin
 * comes from here). The password is read from STAFF_PASSWORD, or asked twice on the terminal without echo.
 */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { STAFF_ROLES, StaffAccountError, type StaffRole } from '../modules/intranet/index.js';
import { I18n } from '../platform/i18n/index.js';
import { intranetMessages } from '../modules/intranet/messages/index.js';
import { runWithServices } from './run-with-services.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { username: { type: 'string' }, role: { type: 'string' } },
});
if (!values.username || !STAFF_ROLES.includes(values.role as StaffRole)) {
  console.error(`usage: npm run staff:create -- --username NAME --role ${STAFF_ROLES.join('|')}\n  (password from STAFF_PASSWORD, or asked on the terminal)`);
  process.exit(2);
}

/** Asks without echoing what is typed. */
async function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const answer = rl.question(question);
  muted = true;
  const text = await answer;
  rl.close();
  process.stdout.write('\n');
  return text;
}

async function password(): Promise<string | null> {
  if (process.env.STAFF_PASSWORD) return process.env.STAFF_PASSWORD;
  if (!process.stdin.isTTY) return null;
  const first = await askHidden('Password / 密碼: ');
  const second = await askHidden('Again / 再輸入一次: ');
  if (first !== second) {
    console.error('the two passwords differ / 兩次輸入的密碼不一致');
    process.exit(1);
  }
  return first;
}

const typed = await password();
if (typed === null) {
  console.error('no password: set STAFF_PASSWORD or run on a terminal');
  process.exit(2);
}

await runWithServices(async (services) => {
  try {
    const created = await services.api.intranet.staff.create({ username: values.username!, role: values.role as StaffRole, password: typed, by: null, clientAddress: 'cli' });
    console.log(`created ${created.username} (${created.role})`);
    return 0;
  } catch (err) {
    if (!(err instanceof StaffAccountError)) throw err;
    console.error(new I18n(intranetMessages).translator('en')(err.message));
    return 1;
  }
});
