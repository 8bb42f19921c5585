// Shared by the transport tests: message builders, a recorder of what a transport hands over, a
// bounded wait, and a pino logger whose lines the test can read.

import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Message, NodeId } from '../../../../src/raft/types.ts';
import type { Transport } from '../../../../src/raftnode/transport/index.ts';

export function message(from: NodeId, to: NodeId, fields: Partial<Message> = {}): Message {
  return { type: 'app', from, to, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}

/** Numbered heartbeats: `index` carries the sequence number, so order and gaps are visible. */
export function numbered(from: NodeId, to: NodeId, first: number, count: number): Message[] {
  return Array.from({ length: count }, (_, i) => message(from, to, { type: 'heartbeat', index: first + i }));
}

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** One message of every shape the core produces, with every optional field used somewhere. */
export function everyShape(from: NodeId, to: NodeId): Message[] {
  return [
    message(from, to, {
      type: 'app',
      term: 7,
      logTerm: 6,
      index: 41,
      commit: 40,
      entries: [
        { term: 6, index: 42, type: 'normal', data: bytes(1, 2, 3) },
        { term: 7, index: 43, type: 'confChange', data: bytes(0xff, 0) },
        { term: 7, index: 44, type: 'normal', data: new Uint8Array(0) },
      ],
    }),
    message(from, to, { type: 'appResp', term: 7, index: 30, reject: true, rejectHint: 12, logTerm: 3 }),
    message(from, to, { type: 'vote', term: 8, index: 44, logTerm: 7, context: new TextEncoder().encode('transfer') }),
    message(from, to, { type: 'preVoteResp', term: 9, reject: true }),
    message(from, to, { type: 'heartbeat', term: 7, commit: 40, context: bytes(9, 9) }),
    message(from, to, {
      type: 'snap',
      term: 7,
      snapshot: { metadata: { index: 100, term: 6, confState: { voters: ['a', 'b', 'c'], learners: ['d'] } }, data: new Uint8Array(5000).fill(7) },
    }),
    message(from, to, { type: 'transferLeader', term: 7, transferee: 'c' }),
    message(from, to, { type: 'readIndexResp', term: 7, index: 40, context: bytes(1) }),
  ];
}

export interface Received {
  batches: Message[][];
  messages: Message[];
  unreachable: NodeId[];
  snapshotReports: Array<{ peer: NodeId; ok: boolean }>;
}

/** Installs handlers on `transport` that record everything it reports. */
export function record(transport: Transport): Received {
  const received: Received = { batches: [], messages: [], unreachable: [], snapshotReports: [] };
  transport.setHandlers({
    onMessages: (messages) => {
      received.batches.push(messages);
      received.messages.push(...messages);
    },
    reportUnreachable: (peer) => received.unreachable.push(peer),
    reportSnapshot: (peer, ok) => received.snapshotReports.push({ peer, ok }),
  });
  return received;
}

/** Lets every pending immediate and I/O callback of this turn run. */
export function settle(turns = 3): Promise<void> {
  let chain = Promise.resolve();
  for (let i = 0; i < turns; i++) chain = chain.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  return chain;
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger at debug level whose lines are parsed into `lines`. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export const silentLogger: Logger = pino({ level: 'silent' });
