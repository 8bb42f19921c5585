// CBOR bodies of the frames. Messages are encoded one by one when queued (so the queue counts
// exact bytes and an oversized message is caught at send time), and a batch body is assembled
// from those encodings with a hand-written map and array header: plain CBOR that any decoder
// reads as { from, clusterId?, messages: [...] }.

import { Decoder, Encoder } from 'cbor-x';
import type { ConfState, Entry, Message, Snapshot, SnapshotMetadata } from '../../raft/types.ts';
import { ProtocolError } from './errors.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';

// Records and shared structures make a stream stateful; frames must decode on their own. Tag 64
// keeps Uint8Array fields Uint8Array on the other side instead of turning into Buffers.
const encoder = new Encoder({ useRecords: false, tagUint8Array: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Handshake, dialer -> listener: who I am, who I think you are, which cluster. */
export interface Hello {
  kind: 'hello';
  from: string;
  to: string;
  clusterId: string | null;
}

/** Handshake answer, listener -> dialer. */
export type HelloReply = { kind: 'welcome'; nodeId: string } | { kind: 'refused'; reason: string };

export interface Batch {
  from: string;
  clusterId?: string;
  messages: Message[];
}

/** Copies out of the encoder's shared scratch buffer, so a queued message holds only its own bytes. */
function encodeValue(value: unknown): Buffer {
  return Buffer.from(encoder.encode(value));
}

export function encodeHello(hello: Hello): Buffer {
  return encodeValue(hello);
}

export function encodeHelloReply(reply: HelloReply): Buffer {
  return encodeValue(reply);
}

// encodeMessage and validate.ts name every field of the core's wire types. Should a type gain or
// lose a field, these lines stop compiling instead of the field silently vanishing on the wire.
type SameKeys<T, Keys extends PropertyKey> = [Exclude<keyof T, Keys>, Exclude<Keys, keyof T>] extends [never, never] ? true : false;
const _messageFields: SameKeys<Message, 'type' | 'from' | 'to' | 'term' | 'logTerm' | 'index' | 'entries' | 'commit' | 'reject' | 'rejectHint' | 'snapshot' | 'context' | 'transferee'> = true;
const _entryFields: SameKeys<Entry, 'term' | 'index' | 'type' | 'data'> = true;
const _snapshotFields: SameKeys<Snapshot, 'metadata' | 'data'> = true;
const _metadataFields: SameKeys<SnapshotMetadata, 'index' | 'term' | 'confState'> = true;
const _confStateFields: SameKeys<ConfState, 'voters' | 'learners'> = true;

/** Only the fields of Message, absent optional ones left out, whatever else the object carries. */
export function encodeMessage(message: Message): Buffer {
  const plain: Record<string, unknown> = {
    type: message.type,
    from: message.from,
    to: message.to,
    term: message.term,
    logTerm: message.logTerm,
    index: message.index,
    entries: message.entries.map((entry) => ({ term: entry.term, index: entry.index, type: entry.type, data: entry.data })),
    commit: message.commit,
    reject: message.reject,
    rejectHint: message.rejectHint,
  };
  if (message.snapshot !== undefined) {
    const { metadata, data } = message.snapshot;
    plain.snapshot = {
      metadata: { index: metadata.index, term: metadata.term, confState: { voters: metadata.confState.voters, learners: metadata.confState.learners } },
      data,
    };
  }
  if (message.context !== undefined) plain.context = message.context;
  if (message.transferee !== undefined) plain.transferee = message.transferee;
  return encodeValue(plain);
}

function majorHeader(major: number, count: number): Buffer {
  const type = major << 5;
  if (count < 24) return Buffer.from([type | count]);
  if (count < 0x100) return Buffer.from([type | 24, count]);
  if (count < 0x10000) {
    const header = Buffer.alloc(3);
    header[0] = type | 25;
    header.writeUInt16BE(count, 1);
    return header;
  }
  const header = Buffer.alloc(5);
  header[0] = type | 26;
  header.writeUInt32BE(count, 1);
  return header;
}

/** Largest CBOR array header (count up to 2^32 - 1). */
const MAX_ARRAY_HEADER_BYTES = 5;

/**
 * Builds batch bodies for one sender. The map header, `from` and `clusterId` never change, so
 * they are encoded once.
 */
export class BatchEncoder {
  readonly #prefix: Buffer;

  constructor(from: string, clusterId: string | undefined) {
    const parts = [majorHeader(5, clusterId === undefined ? 2 : 3), encodeValue('from'), encodeValue(from)];
    if (clusterId !== undefined) parts.push(encodeValue('clusterId'), encodeValue(clusterId));
    parts.push(encodeValue('messages'));
    this.#prefix = Buffer.concat(parts);
  }

  /** Room for message encodings in one frame of maxFrameBytes, whatever their count. */
  messageBytesPerFrame(maxFrameBytes: number): number {
    return maxFrameBytes - FRAME_HEADER_BYTES - this.#prefix.byteLength - MAX_ARRAY_HEADER_BYTES;
  }

  /** Body parts of one batch frame, in order; pass them to encodeFrame. */
  bodyParts(encodedMessages: readonly Uint8Array[]): Uint8Array[] {
    return [this.#prefix, majorHeader(4, encodedMessages.length), ...encodedMessages];
  }
}

/** Decodes exactly one CBOR item filling `body`; anything else is a protocol error. */
export function decodeBody(body: Uint8Array): unknown {
  try {
    return decoder.decode(body);
  } catch (error) {
    throw new ProtocolError('badCbor', `frame body is not one well-formed CBOR item: ${error instanceof Error ? error.message : String(error)}`);
  }
}
