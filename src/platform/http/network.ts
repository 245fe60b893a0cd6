import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { RequestHandler } from 'express';
import { clientAddress } from './client.js';

/** A list of addresses and CIDR ranges (INTRANET_ALLOW: `127.0.0.1/8,::1`) that answers whether an address is in it. */
export interface AddressList {
  has(address: string): boolean;
}

/** `::ffff:127.0.0.1` is the IPv4 client of a dual-stack socket; a zone (`%eth0`) names an interface, not an address. */
function normalize(address: string): string {
  const bare = address.trim().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped ? mapped[1]! : bare;
}

/** Builds the list; an entry that is neither an address nor a CIDR range throws, so a typo stops the start. */
export function addressList(entries: readonly string[]): AddressList {
  const list = new BlockList();
  for (const raw of entries) {
    const [net = '', prefix, ...rest] = raw.trim().split('/');
    const address = normalize(net);
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = type === 'ipv4' ? 32 : 128;
    if (!type || rest.length || (bits !== undefined && (!/^\d+$/.test(prefix!) || bits > max))) {
      throw new Error(`not an address or CIDR range: "${raw}"`);
    }
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return {
    has(candidate) {
      const address = normalize(candidate);
      if (isIPv4(address)) return list.check(address, 'ipv4');
      if (isIPv6(address)) return list.check(address, 'ipv6');
      return false;
    },
  };
}

/**
 * Lets through only clients whose address (as `trust proxy` resolves it) is in `allow`; others get `refusal`
 * (a 404 by default, so that what is hidden does not show it exists).
 */
export function onlyFrom(allow: AddressList, refusal: () => Error = notFound): RequestHandler {
  return (req, _res, next) => {
    next(allow.has(clientAddress(req)) ? undefined : refusal());
  };
}

function notFound(): Error {
  return Object.assign(new Error('not found'), { status: 404 });
}
