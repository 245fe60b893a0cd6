// Reading real NHI cards through PC/SC. The native binding is optional and loaded lazily, so the agent
// starts and serves its status on machines without a PC/SC service or library.
import { statSync } from 'node:fs';
import { terminalKid } from '../protocol/index.js';
import { CardDataError, parseReadResponse, statusWord } from './card-data.js';
import { CardReadError, type CardReader, type ReaderStatus, type SignedRead } from './readers.js';
import { loadTerminalKey, type TerminalKey } from './terminal-key.js';

export const SELECT_NHI_APPLICATION = Uint8Array.from([
  0x00, 0xa4, 0x04, 0x00, 0x10, 0xd1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x11, 0x00,
]);
export const READ_BASIC_DATA = Uint8Array.from([0x00, 0xca, 0x11, 0x00, 0x02, 0x00, 0x00]);

/** What the agent needs from a PC/SC binding; tests and other bindings can supply their own. */
export interface PcscBackend {
  listReaders(): Promise<Array<{ name: string; cardPresent: boolean }>>;
  /** Sends the APDUs in order while holding the card exclusively, leaves the card, returns each response. */
  exchange(reader: string, apdus: Uint8Array[]): Promise<Uint8Array[]>;
}

// The subset of the `smartcard` package (v2+, N-API) this file uses.
interface ScCard {
  transmit(command: Buffer, options?: { autoGetResponse?: boolean }): Promise<Buffer>;
  disconnect(disposition?: number): void;
}
interface ScReader {
  readonly name: string;
  readonly state: number;
  connect(shareMode?: number, protocol?: number): Promise<ScCard>;
}
interface ScContext {
  listReaders(): ScReader[];
  close(): void;
}
interface SmartcardModule {
  Context: new () => ScContext;
  SCARD_SHARE_EXCLUSIVE: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_LEAVE_CARD: number;
  SCARD_STATE_PRESENT: number;
}

const SCARD_E_NO_READERS_AVAILABLE = 0x8010002e;

const errorCode = (err: unknown): number | undefined => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code >>> 0 : undefined;
};

function pcscdSocketMissing(): string | null {
  if (process.platform !== 'linux') return null; // Windows/macOS: the binding itself reports a missing service
  const socket = process.env.PCSCLITE_CSOCK_NAME || '/run/pcscd/pcscd.comm';
  try {
    if (statSync(socket).isSocket()) return null;
  } catch {
    /* missing */
  }
  return `pcscd is not running (no socket ${socket})`;
}

/**
 * The `smartcard` package as a backend. Checked before loading: the daemon's socket must exist, so a
 * binding never waits on an absent daemon. The module name is a variable so TypeScript needs no types.
 */
export async function loadSmartcardBackend(moduleName = 'smartcard'): Promise<PcscBackend> {
  const missing = pcscdSocketMissing();
  if (missing) throw new CardReadError('pcsc_service_missing', missing);
  let sc: SmartcardModule;
  try {
    const mod = (await import(moduleName)) as { default?: unknown };
    sc = ((mod as { Context?: unknown }).Context ? mod : mod.default) as SmartcardModule;
    if (typeof sc?.Context !== 'function') throw new Error(`${moduleName} has no Context (need smartcard ≥ 2)`);
  } catch (err) {
    throw new CardReadError('pcsc_service_missing', `PC/SC binding unavailable: ${(err as Error).message}`);
  }
  const open = (): ScContext => {
    try {
      return new sc.Context();
    } catch (err) {
      throw new CardReadError('pcsc_service_missing', `PC/SC context: ${(err as Error).message}`);
    }
  };
  const readers = (ctx: ScContext): ScReader[] => {
    try {
      return ctx.listReaders();
    } catch (err) {
      if (errorCode(err) === SCARD_E_NO_READERS_AVAILABLE) return [];
      throw err;
    }
  };
  return {
    async listReaders() {
      const ctx = open();
      try {
        return readers(ctx).map((r) => ({ name: r.name, cardPresent: (r.state & sc.SCARD_STATE_PRESENT) !== 0 }));
      } finally {
        ctx.close();
      }
    },
    async exchange(name, apdus) {
      const ctx = open();
      try {
        const reader = readers(ctx).find((r) => r.name === name);
        if (!reader) throw new CardReadError('no_reader');
        // The bindings expose no SCardBeginTransaction; an exclusive connection gives the same guarantee
        // for this short exchange: no other application can interleave APDUs between SELECT and READ.
        const card = await reader.connect(sc.SCARD_SHARE_EXCLUSIVE, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1);
        try {
          const out: Uint8Array[] = [];
          // autoGetResponse: T=0 cards answer 61xx and hand the data over on GET RESPONSE.
          for (const apdu of apdus) out.push(await card.transmit(Buffer.from(apdu), { autoGetResponse: true }));
          return out;
        } finally {
          card.disconnect(sc.SCARD_LEAVE_CARD);
        }
      } finally {
        ctx.close();
      }
    },
  };
}

export class PcscCardReader implements CardReader {
  readonly mode = 'pcsc' as const;
  private backend?: Promise<PcscBackend>;

  constructor(
    private readonly options: {
      terminalKeyFile: string;
      backend?: PcscBackend;
      moduleName?: string;
      log?: (line: string) => void;
    },
  ) {}

  private getBackend(): Promise<PcscBackend> {
    if (this.options.backend) return Promise.resolve(this.options.backend);
    // Keep a loaded binding; retry a failed load each time, the service may be started later.
    const loading = (this.backend ??= loadSmartcardBackend(this.options.moduleName));
    loading.catch(() => {
      if (this.backend === loading) this.backend = undefined;
    });
    return loading;
  }

  private async terminalKey(): Promise<TerminalKey | null> {
    try {
      return await loadTerminalKey(this.options.terminalKeyFile);
    } catch (err) {
      this.options.log?.(`terminal key: ${(err as Error).message}`);
      return null;
    }
  }

  async status(): Promise<ReaderStatus> {
    try {
      const readers = await (await this.getBackend()).listReaders();
      const status: ReaderStatus = { reader: readers.length > 0, card: readers.some((r) => r.cardPresent) };
      if (!(await this.terminalKey())) status.error = 'terminal_not_enrolled';
      return status;
    } catch (err) {
      if (err instanceof CardReadError && err.code === 'pcsc_service_missing') {
        return { reader: false, card: false, error: 'pcsc_service_missing', detail: err.message };
      }
      this.options.log?.(`status: ${(err as Error).message}`);
      return { reader: false, card: false };
    }
  }

  async read(): Promise<SignedRead> {
    const backend = await this.getBackend();
    const readers = await backend.listReaders();
    if (readers.length === 0) throw new CardReadError('no_reader');
    const reader = readers.find((r) => r.cardPresent);
    if (!reader) throw new CardReadError('no_card');
    const key = await this.terminalKey();
    if (!key) throw new CardReadError('terminal_not_enrolled');
    let responses: Uint8Array[];
    try {
      responses = await backend.exchange(reader.name, [SELECT_NHI_APPLICATION, READ_BASIC_DATA]);
    } catch (err) {
      if (err instanceof CardReadError) throw err;
      throw new CardReadError('card_unreadable', `PC/SC exchange: ${(err as Error).message}`);
    }
    const [select, data] = responses;
    if (!select || select.length < 2 || statusWord(select) !== '9000') {
      throw new CardReadError('card_unreadable', `SELECT answered ${select ? statusWord(select) : 'nothing'}: not an NHI card`);
    }
    try {
      const card = parseReadResponse(data ?? new Uint8Array());
      return { card, seed: key.seed, kid: terminalKid(key.terminalId) };
    } catch (err) {
      if (err instanceof CardDataError) throw new CardReadError('card_unreadable', err.message);
      throw err;
    }
  }
}
