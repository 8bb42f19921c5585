import { decode, encode } from 'cbor-x';

/**
 * What the driver puts in a normal log entry: the caller's command plus the id of the request
 * that proposed it, so the node that proposed it can hand the result back to its caller when
 * the entry is applied. An empty entry (a new leader's no-op) has no envelope.
 */
export interface ProposalEnvelope {
  requestId: string;
  command: Uint8Array;
}

export function encodeEnvelope(envelope: ProposalEnvelope): Uint8Array {
  return encode([envelope.requestId, envelope.command]);
}

/** Null for an empty entry or bytes that are not an envelope (never thrown: every replica must agree). */
export function decodeEnvelope(data: Uint8Array): ProposalEnvelope | null {
  if (data.byteLength === 0) return null;
  try {
    const value = decode(data) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'string' && value[1] instanceof Uint8Array) {
      return { requestId: value[0], command: value[1] };
    }
  } catch {}
  return null;
}

/** Context of a membership change entry: who asked, and where the node listens for peers. */
export interface ConfChangeContext {
  requestId: string;
  peerAddress?: string;
}

export function encodeConfContext(context: ConfChangeContext): Uint8Array {
  return encode([context.requestId, context.peerAddress ?? null]);
}

export function decodeConfContext(data: Uint8Array | undefined): ConfChangeContext | null {
  if (!data || data.byteLength === 0) return null;
  try {
    const value = decode(data) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'string') {
      return typeof value[1] === 'string' ? { requestId: value[0], peerAddress: value[1] } : { requestId: value[0] };
    }
  } catch {}
  return null;
}

/**
 * Sent in place of a large snapshot's bytes (in the `snap` message's context): where and how
 * the receiver fetches the image itself, in resumable pieces, instead of one huge frame.
 */
export interface SnapshotTicket {
  index: number;
  term: number;
  sizeBytes: number;
  sha256: string;
  /** Opaque to the driver: the address the fetcher asks (the leader's client API). */
  source: string;
}

const ticketTag = 'bramble/snapshot-ticket/1';

export function encodeSnapshotTicket(ticket: SnapshotTicket): Uint8Array {
  return encode([ticketTag, ticket.index, ticket.term, ticket.sizeBytes, ticket.sha256, ticket.source]);
}

export function decodeSnapshotTicket(data: Uint8Array | undefined): SnapshotTicket | null {
  if (!data || data.byteLength === 0) return null;
  try {
    const value = decode(data) as unknown;
    if (!Array.isArray(value) || value[0] !== ticketTag) return null;
    const [, index, term, sizeBytes, sha256, source] = value as [string, unknown, unknown, unknown, unknown, unknown];
    if (typeof index !== 'number' || typeof term !== 'number' || typeof sizeBytes !== 'number' || typeof sha256 !== 'string' || typeof source !== 'string') return null;
    return { index, term, sizeBytes, sha256, source };
  } catch {
    return null;
  }
}
