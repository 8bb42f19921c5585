// Which listen hosts other machines can dial: shared by the API's forwarder (where a peer's API
// really listens) and src/net's board address.
import { isIP } from 'node:net';

/** A listen-on-all host: it names no address to dial. */
export function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

/** Loopback: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
