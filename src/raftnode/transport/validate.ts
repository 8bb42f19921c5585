// Turns a decoded CBOR value into typed data, or a ProtocolError naming the first bad field. The
// result is rebuilt field by field: unknown fields are left behind, and byte fields are copied
// out of the frame so a small entry kept in the Raft log does not pin a 16 MiB frame buffer.

import type { ConfState, Entry, EntryType, Message, MessageType, Snapshot } from '../../raft/types.ts';
import type { Batch, Hello, HelloReply } from './codec.ts';
import { ProtocolError } from './errors.ts';

const messageTypes: ReadonlySet<string> = new Set<MessageType>([
  'app',
  'appResp',
  'vote',
  'voteResp',
  'preVote',
  'preVoteResp',
  'heartbeat',
  'heartbeatResp',
  'snap',
  'prop',
  'readIndex',
  'readIndexResp',
  'timeoutNow',
  'transferLeader',
]);
const entryTypes: ReadonlySet<string> = new Set<EntryType>(['normal', 'confChange']);

/** Node ids are names, not payloads. */
const MAX_NODE_ID_LENGTH = 256;

function bad(path: string, problem: string): ProtocolError {
  return new ProtocolError('badShape', `${path} ${problem}`);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) {
    throw bad(path, 'is not a map');
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw bad(path, 'is not an array');
  return value;
}

function nodeId(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NODE_ID_LENGTH) {
    throw bad(path, `is not a node id (a string of 1 to ${MAX_NODE_ID_LENGTH} characters)`);
  }
  return value;
}

function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(path, 'is not a non-negative integer');
  return value;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw bad(path, 'is not a boolean');
  return value;
}

function bytes(value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw bad(path, 'is not a byte string');
  return new Uint8Array(value);
}

function oneOf<T extends string>(value: unknown, allowed: ReadonlySet<string>, path: string): T {
  if (typeof value !== 'string' || !allowed.has(value)) throw bad(path, `is not one of ${[...allowed].join(', ')}`);
  return value as T;
}

function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : parse(value);
}

function parseEntry(value: unknown, path: string): Entry {
  const raw = record(value, path);
  return {
    term: count(raw.term, `${path}.term`),
    index: count(raw.index, `${path}.index`),
    type: oneOf<EntryType>(raw.type, entryTypes, `${path}.type`),
    data: bytes(raw.data, `${path}.data`),
  };
}

function parseConfState(value: unknown, path: string): ConfState {
  const raw = record(value, path);
  return {
    voters: array(raw.voters, `${path}.voters`).map((id, i) => nodeId(id, `${path}.voters[${i}]`)),
    learners: array(raw.learners, `${path}.learners`).map((id, i) => nodeId(id, `${path}.learners[${i}]`)),
  };
}

function parseSnapshot(value: unknown, path: string): Snapshot {
  const raw = record(value, path);
  const metadata = record(raw.metadata, `${path}.metadata`);
  return {
    metadata: {
      index: count(metadata.index, `${path}.metadata.index`),
      term: count(metadata.term, `${path}.metadata.term`),
      confState: parseConfState(metadata.confState, `${path}.metadata.confState`),
    },
    data: bytes(raw.data, `${path}.data`),
  };
}

export function parseMessage(value: unknown, path = 'message'): Message {
  const raw = record(value, path);
  const message: Message = {
    type: oneOf<MessageType>(raw.type, messageTypes, `${path}.type`),
    from: nodeId(raw.from, `${path}.from`),
    to: nodeId(raw.to, `${path}.to`),
    term: count(raw.term, `${path}.term`),
    logTerm: count(raw.logTerm, `${path}.logTerm`),
    index: count(raw.index, `${path}.index`),
    entries: array(raw.entries, `${path}.entries`).map((entry, i) => parseEntry(entry, `${path}.entries[${i}]`)),
    commit: count(raw.commit, `${path}.commit`),
    reject: bool(raw.reject, `${path}.reject`),
    rejectHint: count(raw.rejectHint, `${path}.rejectHint`),
  };
  const snapshot = optional(raw.snapshot, (v) => parseSnapshot(v, `${path}.snapshot`));
  if (snapshot !== undefined) message.snapshot = snapshot;
  const context = optional(raw.context, (v) => bytes(v, `${path}.context`));
  if (context !== undefined) message.context = context;
  const transferee = optional(raw.transferee, (v) => nodeId(v, `${path}.transferee`));
  if (transferee !== undefined) message.transferee = transferee;
  return message;
}

export function parseBatch(value: unknown): Batch {
  const raw = record(value, 'batch');
  const batch: Batch = {
    from: nodeId(raw.from, 'batch.from'),
    messages: array(raw.messages, 'batch.messages').map((message, i) => parseMessage(message, `batch.messages[${i}]`)),
  };
  if (raw.clusterId !== undefined && raw.clusterId !== null) {
    if (typeof raw.clusterId !== 'string') throw bad('batch.clusterId', 'is not a string');
    batch.clusterId = raw.clusterId;
  }
  return batch;
}

function clusterIdField(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw bad(path, 'is not a string');
  return value;
}

export function parseHello(value: unknown): Hello {
  const raw = record(value, 'hello');
  if (raw.kind !== 'hello') throw bad('hello.kind', 'is not "hello" (the first frame on a connection must be the handshake)');
  return { kind: 'hello', from: nodeId(raw.from, 'hello.from'), to: nodeId(raw.to, 'hello.to'), clusterId: clusterIdField(raw.clusterId, 'hello.clusterId') };
}

export function parseHelloReply(value: unknown): HelloReply {
  const raw = record(value, 'reply');
  if (raw.kind === 'welcome') return { kind: 'welcome', nodeId: nodeId(raw.nodeId, 'reply.nodeId') };
  if (raw.kind === 'refused') {
    if (typeof raw.reason !== 'string') throw bad('reply.reason', 'is not a string');
    return { kind: 'refused', reason: raw.reason };
  }
  throw bad('reply.kind', 'is not "welcome" or "refused"');
}
