/**
 * `npm run mail -- in-doubt` lists mail whose delivery is uncertain (its worker stopped while sending);
 * `npm run mail -- requeue <id>` sends an in-doubt or failed message again — an operator's decision, since the
 * recipient may then get it twice.
 */
import { runWithServices } from './run-with-services.js';

const [command, id] = process.argv.slice(2).filter((a) => a !== '--');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (command !== 'in-doubt' && !(command === 'requeue' && id && UUID.test(id))) {
  console.error('usage: npm run mail -- in-doubt\n       npm run mail -- requeue <message id>');
  process.exit(2);
}
await runWithServices(async (services) => {
  if (command === 'in-doubt') {
    const rows = await services.mail.listInDoubt();
    if (!rows.length) console.log('no mail in doubt');
    // The recipient is personal data: show the template and the time, not the address.
    for (const r of rows) console.log(`${r.id}  ${r.template}  queued ${r.createdAt.toISOString()}  attempts ${r.attempts}`);
    return 0;
  }
  if (await services.mail.requeue(id!)) {
    console.log(`requeued ${id}: the mail worker sends it on its next run`);
    return 0;
  }
  console.error(`${id} is not an in-doubt or failed message`);
  return 1;
});
