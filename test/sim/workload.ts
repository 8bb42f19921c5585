// Concurrent clients of the replicated KV store. Each client runs one operation at a time:
// put(key, unique value), get(key) through ReadIndex, or cas(key, expected, unique value).
// An attempt goes to one node (the believed leader or any node: followers forward); an attempt
// that is refused, lost to a crash or not answered in time is retried elsewhere with the same
// operation id (the state machine applies an id once). When the operation's deadline passes it
// stays OPEN in the history: it may or may not have happened. Invoke and return times are the
// virtual clock.

import { ProposalDroppedError } from '../../src/raft/index.ts';
import type { Prng } from '../../src/raft/index.ts';
import { HistoryRecorder } from '../lib/linearizability/index.ts';
import type { KvInput, KvOutput } from '../lib/linearizability/index.ts';
import { encodeCommand } from './kv-machine.ts';
import type { KvCommand } from './kv-machine.ts';
import type { SimNode } from './sim-node.ts';

export interface WorkloadSettings {
  clientCount: number;
  keys: string[];
  /** Shares of gets and cas among operations; the rest are puts. */
  readShare: number;
  casShare: number;
  /** Chance an attempt goes to the node believed to lead rather than to any node. */
  leaderBias: number;
  attemptTimeoutMs: number;
  opDeadlineMs: number;
  thinkMaxMs: number;
}

export interface WorkloadWorld {
  readonly nowMs: number;
  readonly nodes: readonly SimNode[];
  schedule(atMs: number, label: string, run: () => void): void;
  /** The node most recently seen leading (may be down or deposed). */
  leaderHint(): SimNode | undefined;
}

interface ClientOp {
  opId: number;
  clientId: number;
  input: KvInput;
  command: Uint8Array | null;
  attempt: number;
  /** Some attempt reached a log: the op may take effect even if no answer ever comes. */
  mayHaveTakenEffect: boolean;
  done: boolean;
  deadlineMs: number;
  /** Node of the current attempt, so a late answer from it can be ignored. */
  node: SimNode | null;
  onDone?: (output: KvOutput | undefined) => void;
}

export interface WorkloadStats {
  invoked: number;
  completed: number;
  open: number;
  discarded: number;
  attempts: number;
  refused: number;
}

export class Workload {
  readonly recorder: HistoryRecorder<KvInput, KvOutput>;
  readonly stats: WorkloadStats = { invoked: 0, completed: 0, open: 0, discarded: 0, attempts: 0, refused: 0 };
  readonly #world: WorkloadWorld;
  readonly #prng: Prng;
  readonly #settings: WorkloadSettings;
  /** Latest value each client saw per key: cas expectations that may or may not hold. */
  readonly #seen = new Map<string, string | null>();
  readonly #written = new Map<string, string[]>();
  #running = false;

  constructor(world: WorkloadWorld, prng: Prng, settings: WorkloadSettings) {
    this.#world = world;
    this.#prng = prng;
    this.#settings = settings;
    this.recorder = new HistoryRecorder<KvInput, KvOutput>(() => world.nowMs);
  }

  start(): void {
    this.#running = true;
    for (let clientId = 1; clientId <= this.#settings.clientCount; clientId++) {
      this.#world.schedule(this.#world.nowMs + this.#prng.nextInt(this.#settings.thinkMaxMs + 1), `client ${clientId} starts`, () =>
        this.#nextOp(clientId),
      );
    }
  }

  /** Clients finish their current operation and start no new one. */
  stop(): void {
    this.#running = false;
  }

  /** One put that must be acknowledged: the liveness probe of the quiet period. */
  probeWrite(clientId: number, key: string, deadlineMs: number, onDone: (acknowledged: boolean) => void): void {
    const op = this.#invoke(clientId, { kind: 'put', key, value: `probe-${clientId}` }, deadlineMs);
    op.onDone = (output) => onDone(output !== undefined);
    this.#attempt(op, true);
  }

  #nextOp(clientId: number): void {
    if (!this.#running) return;
    const s = this.#settings;
    const prng = this.#prng;
    const key = s.keys[prng.nextInt(s.keys.length)]!;
    const roll = prng.nextFloat();
    let input: KvInput;
    const value = `c${clientId}-${this.stats.invoked + 1}`;
    if (roll < s.readShare) {
      input = { kind: 'get', key };
    } else if (roll < s.readShare + s.casShare) {
      input = { kind: 'cas', key, expected: this.#casExpectation(clientId, key), value };
    } else {
      input = { kind: 'put', key, value };
    }
    const op = this.#invoke(clientId, input, this.#world.nowMs + s.opDeadlineMs);
    op.onDone = () => {
      if (!this.#running) return;
      this.#world.schedule(this.#world.nowMs + prng.nextInt(s.thinkMaxMs + 1), `client ${clientId} thinks`, () => this.#nextOp(clientId));
    };
    this.#attempt(op, false);
  }

  #casExpectation(clientId: number, key: string): string | null {
    const roll = this.#prng.nextFloat();
    const seen = this.#seen.get(`${clientId}/${key}`);
    if (roll < 0.7 && seen !== undefined) return seen;
    const written = this.#written.get(key) ?? [];
    if (roll < 0.9 && written.length > 0) return written[written.length - 1 - this.#prng.nextInt(Math.min(3, written.length))]!;
    return null;
  }

  #invoke(clientId: number, input: KvInput, deadlineMs: number): ClientOp {
    const opId = this.recorder.invoke(clientId, input);
    this.stats.invoked++;
    let command: Uint8Array | null = null;
    if (input.kind === 'put' || input.kind === 'cas') {
      const cmd: KvCommand =
        input.kind === 'put'
          ? { opId, clientId, kind: 'put', key: input.key, value: input.value }
          : { opId, clientId, kind: 'cas', key: input.key, expected: input.expected, value: input.value };
      command = encodeCommand(cmd);
      const list = this.#written.get(input.key) ?? [];
      list.push(input.value);
      this.#written.set(input.key, list);
    }
    return { opId, clientId, input, command, attempt: 0, mayHaveTakenEffect: false, done: false, deadlineMs, node: null };
  }

  #pickNode(preferLeader: boolean): SimNode {
    const nodes = this.#world.nodes;
    const hint = this.#world.leaderHint();
    if (hint !== undefined && (preferLeader || this.#prng.nextFloat() < this.#settings.leaderBias)) return hint;
    return nodes[this.#prng.nextInt(nodes.length)]!;
  }

  #attempt(op: ClientOp, preferLeader: boolean): void {
    if (op.done) return;
    const world = this.#world;
    if (world.nowMs >= op.deadlineMs) {
      this.#giveUp(op);
      return;
    }
    const node = this.#pickNode(preferLeader);
    op.attempt++;
    op.node = node;
    this.stats.attempts++;
    const attempt = op.attempt;
    const retrySoon = (label: string): void => {
      const backoffMs = 5 + this.#prng.nextInt(20);
      world.schedule(world.nowMs + backoffMs, label, () => {
        if (!op.done && op.attempt === attempt) this.#attempt(op, preferLeader);
      });
    };
    if (!node.up) {
      retrySoon(`op ${op.opId} retries (node ${node.id} down)`);
      return;
    }
    try {
      if (op.command !== null) {
        node.propose(op.opId, op.command, {
          onResult: (result) => this.#complete(op, result.output),
          onLost: () => retrySoon(`op ${op.opId} retries (node ${node.id} crashed)`),
        });
        op.mayHaveTakenEffect = true;
      } else {
        const key = op.input.key;
        node.read(op.opId, attempt, {
          key,
          onValue: (value) => this.#complete(op, value),
          onLost: () => retrySoon(`op ${op.opId} retries (node ${node.id} crashed)`),
        });
      }
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      this.stats.refused++;
      retrySoon(`op ${op.opId} retries (${error.reason})`);
      return;
    }
    if (op.done) return;
    world.schedule(Math.min(world.nowMs + this.#settings.attemptTimeoutMs, op.deadlineMs), `op ${op.opId} attempt ${attempt} times out`, () => {
      if (op.done || op.attempt !== attempt) return;
      node.forget(op.opId, attempt);
      this.#attempt(op, preferLeader);
    });
  }

  #complete(op: ClientOp, output: KvOutput): void {
    if (op.done) return;
    op.done = true;
    op.node?.forget(op.opId, op.attempt);
    this.recorder.complete(op.opId, output);
    this.stats.completed++;
    const input = op.input;
    if (input.kind === 'get') this.#seen.set(`${op.clientId}/${input.key}`, output as string | null);
    else if (input.kind === 'put' || (input.kind === 'cas' && output === true)) this.#seen.set(`${op.clientId}/${input.key}`, input.value);
    op.onDone?.(output);
  }

  #giveUp(op: ClientOp): void {
    op.done = true;
    op.node?.forget(op.opId, op.attempt);
    if (op.mayHaveTakenEffect || op.input.kind === 'get') {
      // Unanswered: it stays open for ever in the history.
      this.stats.open++;
    } else {
      // Every attempt was refused before reaching a log: it cannot take effect.
      this.recorder.discard(op.opId);
      this.stats.discarded++;
    }
    op.onDone?.(undefined);
  }

  /** Operations still waiting when the run ends count as open. */
  finish(): void {
    this.stats.open = this.recorder.pendingCount;
  }
}
