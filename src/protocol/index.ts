// The agent ↔ server wire format; both sides import it from here.
export {
  AGENT_ERRORS,
  CARD_NUMBER,
  CARD_READ_RETURN_PATH,
  cardKid,
  cardReadReturnPath,
  ID_NUMBER,
  isAgentError,
  parseKid,
  READ_CHALLENGE,
  READ_REQUEST_ID,
  TERMINAL_ID,
  terminalKid,
  type AgentError,
  type CardAssertionPayload,
  type CardReadCard,
  type Signer,
} from './card-read.js';
