// The join token: `BRAMBLE-1-<ca-fingerprint>-<secret>`. The fingerprint (SHA-256 of the CA
// certificate, 64 hex) lets a new node recognise the real cluster; the secret (128 random bits,
// 32 hex) is what it proves it knows, never sends. Hex only, so the '-' separators are unambiguous
// and the token survives copy-paste, shells and cloud-init files.
import { randomBytes } from 'node:crypto';

export class JoinTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JoinTokenError';
  }
}

export interface JoinToken {
  /** SHA-256 of the CA certificate's DER, lower-case hex. */
  caFingerprint: string;
  secret: Buffer;
  clusterId: string;
}

const TOKEN_PATTERN = /^BRAMBLE-1-([0-9a-fA-F]{64})-([0-9a-fA-F]{32})$/;
export const SECRET_BYTES = 16;

/** The cluster id: the CA fingerprint's first 16 hex digits (what mDNS announces, what the peer handshake compares). */
export function clusterIdOf(caFingerprint: string): string {
  return caFingerprint.slice(0, 16);
}

export function newTokenSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

export function formatJoinToken(caFingerprint: string, secret: Buffer): string {
  return `BRAMBLE-1-${caFingerprint}-${secret.toString('hex')}`;
}

export function parseJoinToken(text: string): JoinToken {
  const trimmed = text.trim();
  const match = TOKEN_PATTERN.exec(trimmed);
  if (!match) {
    const hint = trimmed.startsWith('BRAMBLE-') ? 'it looks cut short or altered' : 'it does not start with BRAMBLE-1-';
    throw new JoinTokenError(`the join token is not of the form BRAMBLE-1-<64 hex digits>-<32 hex digits> (${hint}); print it again with \`bramble token\` on a member or from the bundle`);
  }
  const caFingerprint = match[1]!.toLowerCase();
  return { caFingerprint, secret: Buffer.from(match[2]!, 'hex'), clusterId: clusterIdOf(caFingerprint) };
}
