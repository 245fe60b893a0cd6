// The reader agent's public face: start it, sign and parse what it reads.
export { startAgent, AGENT_VERSION, type AgentOptions, type RunningAgent } from './server.js';
export {
  cardKeyPairFromSeed,
  generateSeed,
  publicKeyFromBase64url,
  signCardAssertion,
  type CardAssertionPayload,
  type CardKeyPair,
} from './assertion.js';
export {
  CardDataError,
  encodeBasicData,
  isoToRoc,
  parseBasicData,
  parseReadResponse,
  rocToIso,
  type CardData,
  type Sex,
} from './card-data.js';
export { CardReadError, parseSimCard, type ReadErrorCode, type SimCard } from './readers.js';
export { READ_BASIC_DATA, SELECT_NHI_APPLICATION, type PcscBackend } from './pcsc.js';
export { defaultTerminalKeyFile, enrollTerminal, loadTerminalKey, TerminalKeyExistsError, type TerminalKey } from './terminal-key.js';
