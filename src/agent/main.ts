// Command line of the reader agent: `npm run agent -- [options]` and `npm run agent -- enroll`.
import { parseArgs } from 'node:util';
import { startAgent } from './server.js';
import { defaultTerminalKeyFile, enrollTerminal, TerminalKeyExistsError } from './terminal-key.js';

const USAGE = `Usage:
  npm run agent -- [--sim] [--port 7777] [--allow-origin ORIGIN]... [--terminal-key FILE] [--demo-cards DIR]
  npm run agent -- enroll [--terminal-key FILE] [--force]

  --sim             simulated reader with a card tray at http://127.0.0.1:PORT/ (default: PC/SC)
  --port            port on 127.0.0.1 (default 7777; 0 = any free port)
  --allow-origin    server origin allowed to request reads (repeatable;
                    default $PUBLIC_ORIGIN or http://localhost:3000)
  --terminal-key    terminal key file (default $DATA_DIR/agent/terminal-key.json, DATA_DIR default .data)
  --demo-cards      folder of simulated-card JSON files (default $DATA_DIR/demo-cards)
  enroll            create this computer's terminal key and print what to register on the server
  --force           with enroll: replace an existing key`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sim: { type: 'boolean', default: false },
      port: { type: 'string', default: '7777' },
      'allow-origin': { type: 'string', multiple: true },
      'terminal-key': { type: 'string' },
      'demo-cards': { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const keyFile = values['terminal-key'] ?? defaultTerminalKeyFile();

  if (positionals[0] === 'enroll') {
    try {
      const t = await enrollTerminal({ keyFile, force: values.force });
      console.log(`Terminal key created / 已建立端末金鑰: ${t.keyFile}
Register this terminal on the server (administrator) / 請管理者在伺服器登錄此端末:
  terminalId: ${t.terminalId}
  publicKey:  ${t.publicKey}`);
      return 0;
    } catch (err) {
      if (err instanceof TerminalKeyExistsError) {
        console.error(err.message);
        return 1;
      }
      throw err;
    }
  }
  if (positionals.length > 0) {
    console.error(`Unknown command ${positionals[0]}\n${USAGE}`);
    return 2;
  }

  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Invalid --port ${values.port}`);
    return 2;
  }
  const allowOrigins = values['allow-origin'] ?? [process.env.PUBLIC_ORIGIN || 'http://localhost:3000'];
  const agent = await startAgent({
    sim: values.sim,
    port,
    allowOrigins,
    terminalKeyFile: keyFile,
    demoCardsDir: values['demo-cards'],
    log: (line) => console.error(line),
  });
  console.log(`Reader agent (${values.sim ? 'simulated' : 'PC/SC'}) listening on ${agent.url}, allowing ${allowOrigins.join(', ')}`);
  const stop = () => {
    agent.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error((err as Error).message ?? err);
    process.exitCode = 1;
  },
);
