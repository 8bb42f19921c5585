// The replicated state machine the simulated clients use: a string map with put and
// compare-and-swap (reads go through ReadIndex and never enter the log).
//
// Every command carries its client operation id and the machine remembers each id's first
// result. A proposal can enter the log twice (the network duplicates a forwarded proposal, a
// client retries after a timeout); applying it twice would let an old value overwrite a newer
// one, so the second application changes nothing and reports the first result, as a real
// client session table does.
//
// `chainHash` folds every applied entry (index, term, type, payload) in order. Two nodes that
// applied the same sequence up to index i have the same chain hash at i; that is how the
// invariant checker compares applied sequences without keeping them.

import type { Entry } from '../../src/raft/index.ts';
import { digestBytes, mixInts } from './trace.ts';

export type KvCommand =
  | { opId: number; clientId: number; kind: 'put'; key: string; value: string }
  | { opId: number; clientId: number; kind: 'cas'; key: string; expected: string | null; value: string };

/** What applying a client command produced: `null` for put, swapped-or-not for cas. */
export interface CommandResult {
  opId: number;
  output: boolean | null;
  /** Where the command first took effect (a duplicate reports the first application). */
  index: number;
  term: number;
  duplicate: boolean;
}

/** Chain hash of the initial (bootstrap) state at index 1. */
export const INITIAL_CHAIN_HASH = 0x2545f491;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeCommand(bytes: Uint8Array): KvCommand {
  const parsed = JSON.parse(decoder.decode(bytes)) as KvCommand;
  if (typeof parsed.opId !== 'number' || (parsed.kind !== 'put' && parsed.kind !== 'cas')) {
    throw new Error('kv: malformed command');
  }
  return parsed;
}

const TYPE_CODE = { normal: 1, confChange: 2 } as const;

export function chainStep(previous: number, entry: Entry): number {
  return mixInts(previous, entry.index, entry.term, TYPE_CODE[entry.type], digestBytes(entry.data), entry.data.length);
}

interface SnapshotImage {
  index: number;
  chain: number;
  data: [string, string][];
  ops: [number, boolean | null, number, number][];
}

export class KvMachine {
  appliedIndex: number;
  chainHash: number;
  readonly #data = new Map<string, string>();
  readonly #ops = new Map<number, { output: boolean | null; index: number; term: number }>();

  private constructor(appliedIndex: number, chainHash: number) {
    this.appliedIndex = appliedIndex;
    this.chainHash = chainHash;
  }

  /** The machine of a node that holds nothing yet (a joiner, before its first snapshot). */
  static empty(): KvMachine {
    return new KvMachine(0, 0);
  }

  /** The state a snapshot at `index` describes; an empty image is the bootstrap state. */
  static fromSnapshot(index: number, image: Uint8Array): KvMachine {
    if (image.byteLength === 0) return new KvMachine(index, INITIAL_CHAIN_HASH);
    const parsed = JSON.parse(decoder.decode(image)) as SnapshotImage;
    if (parsed.index !== index) throw new Error(`kv: snapshot image of index ${parsed.index} installed at ${index}`);
    const machine = new KvMachine(index, parsed.chain);
    for (const [key, value] of parsed.data) machine.#data.set(key, value);
    for (const [opId, output, at, term] of parsed.ops) machine.#ops.set(opId, { output, index: at, term });
    return machine;
  }

  get(key: string): string | null {
    return this.#data.get(key) ?? null;
  }

  get size(): number {
    return this.#data.size;
  }

  /**
   * Applies the next entry. The caller guarantees entry.index === appliedIndex + 1. Returns the
   * command's result for client entries, null for leader no-ops and membership changes.
   */
  apply(entry: Entry): CommandResult | null {
    this.appliedIndex = entry.index;
    this.chainHash = chainStep(this.chainHash, entry);
    if (entry.type !== 'normal' || entry.data.length === 0) return null;
    const command = decodeCommand(entry.data);
    const first = this.#ops.get(command.opId);
    if (first !== undefined) return { opId: command.opId, ...first, duplicate: true };
    let output: boolean | null = null;
    if (command.kind === 'put') {
      this.#data.set(command.key, command.value);
    } else {
      output = this.get(command.key) === command.expected;
      if (output) this.#data.set(command.key, command.value);
    }
    this.#ops.set(command.opId, { output, index: entry.index, term: entry.term });
    return { opId: command.opId, output, index: entry.index, term: entry.term, duplicate: false };
  }

  snapshotImage(): Uint8Array {
    const image: SnapshotImage = {
      index: this.appliedIndex,
      chain: this.chainHash,
      data: [...this.#data.entries()],
      ops: [...this.#ops.entries()].map(([opId, r]) => [opId, r.output, r.index, r.term]),
    };
    return encoder.encode(JSON.stringify(image));
  }
}

/** The chain hash recorded in a snapshot image (the bootstrap image has the initial one). */
export function snapshotChainHash(image: Uint8Array): number {
  if (image.byteLength === 0) return INITIAL_CHAIN_HASH;
  return (JSON.parse(decoder.decode(image)) as SnapshotImage).chain;
}
