export { LinkTokenSchema, type LinkToken } from './entity.js';
export { deleteExpiredLinkTokens, LinkTokens, linkTokenHash, type IssueRequest, type LinkTokenCheck } from './link-tokens.js';
export { linkLanding, type LandedLink, type LinkRefusal } from './landing.js';
