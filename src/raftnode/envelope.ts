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
