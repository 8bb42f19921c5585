// One simulated run from a seed: N nodes, the network, the disks, the clients and the fault
// scheduler on one virtual clock, in one thread. A run has a fault phase of `steps` ticks and
// then a quiet period (network healed, every node up) that must end with a leader and an
// acknowledged final write. Invariants are checked as the run goes; the client history is
// checked for linearizability at the end.

import { createPrng, MemoryStorage } from '../../src/raft/index.ts';
import type { ConfState, Message, NodeId, Prng, TestingMutations } from '../../src/raft/index.ts';
import { checkOperations, kvModel, renderIllegal } from '../lib/linearizability/index.ts';
import { SimDisk } from './disk.ts';
import { EventQueue } from './event-queue.ts';
import { FaultScheduler } from './faults.ts';
import type { FaultWorld } from './faults.ts';
import { InvariantChecker, InvariantViolation } from './invariants.ts';
import type { ViolationInfo } from './invariants.ts';
import { SimNetwork } from './network.ts';
import type { NetworkConditions } from './network.ts';
import { drawProfile, TICK_MS } from './profile.ts';
import type { RunProfile } from './profile.ts';
import { SimNode } from './sim-node.ts';
import type { NodeWorld } from './sim-node.ts';
import { TraceDigest } from './trace.ts';
import { Workload } from './workload.ts';
import type { WorkloadWorld } from './workload.ts';

export const MUTATION_NAMES = [
  'commitPreviousTermByCounting',
  'grantVoteWithoutLogCheck',
  'sendBeforePersist',
  'readWithoutReadIndex',
] as const satisfies readonly (keyof TestingMutations)[];
export type MutationName = (typeof MUTATION_NAMES)[number];

export const DEFAULT_QUIET_TICKS = 400;
/** Ticks of quiet before the liveness probe write starts: time for a leader to settle. */
const PROBE_DELAY_TICKS = 20;

export interface SimOptions {
  seed: number;
  nodeCount: number;
  /** Ticks of the fault phase. */
  steps: number;
  mutation?: MutationName;
  /** Upper bound of the quiet period, ticks. */
  quietTicks?: number;
  /** Wall-clock budget of the linearizability check; beyond it the result is 'unknown'. */
  checkerTimeoutMs?: number;
  /** Receives every trace record as a line (the CLI's --trace). */
  onTrace?: (line: string) => void;
  /** Default true; false leaves persist-before-send bugs to the other invariants (mutation test). */
  checkPersistBeforeSend?: boolean;
}

export interface RunStats {
  events: number;
  virtualTimeMs: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  leaders: number;
  crashes: number;
  lostWrites: number;
  snapshotsInstalled: number;
  compactions: number;
  confChangesApplied: number;
  committedEntries: number;
  ackedWrites: number;
  opsInvoked: number;
  opsCompleted: number;
  opsOpen: number;
  faults: Record<string, number>;
}

export interface SeedResult {
  seed: number;
  nodeCount: number;
  steps: number;
  mutation: MutationName | null;
  checkPersistBeforeSend: boolean;
  violation: (ViolationInfo & { step: number; virtualTimeMs: number }) | null;
  liveness: { ok: boolean; detail: string };
  linearizability: {
    result: 'ok' | 'illegal' | 'unknown' | 'skipped';
    detail: string;
    operations: number;
    elapsedMs: number;
    /** For 'illegal': the failing key's history, the longest linearizable prefix marked. */
    timeline?: string;
  };
  traceDigest: string;
  stats: RunStats;
  /** The last fault notes before the end (for failure reports). */
  recentNotes: string[];
}

type SimEvent =
  | { kind: 'tick'; node: SimNode; incarnation: number }
  | { kind: 'deliver'; message: Message; senderIncarnation: number; reportSnapshot: boolean }
  | { kind: 'fsync'; node: SimNode; generation: number; fsyncId: number }
  | { kind: 'call'; label: string; run: () => void };

const RECENT_NOTES = 30;

export class Simulation implements NodeWorld, WorkloadWorld, FaultWorld {
  nowMs = 0;
  readonly tickMs = TICK_MS;
  readonly invariants: InvariantChecker;
  readonly trace: TraceDigest;
  readonly nodes: SimNode[] = [];
  readonly network: SimNetwork;
  readonly baseNetwork: NetworkConditions;
  readonly profile: RunProfile;
  readonly workload: Workload;
  readonly faults: FaultScheduler;
  readonly #options: SimOptions;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #byId = new Map<NodeId, SimNode>();
  readonly #raftPrngs: Prng;
  readonly #simPrng: Prng;
  #latestConf: { index: number; conf: ConfState };
  #lastLeader: SimNode | undefined;
  #finished = false;
  #liveness: { ok: boolean; detail: string } = { ok: false, detail: 'the run ended before the quiet period' };
  readonly #notes: string[] = [];
  readonly #stats = { events: 0, messagesSent: 0, messagesDelivered: 0, messagesDropped: 0, crashes: 0, confChangesApplied: 0 };

  constructor(options: SimOptions) {
    if (!Number.isInteger(options.nodeCount) || options.nodeCount < 1) throw new RangeError('sim: nodeCount must be a positive integer');
    this.#options = options;
    this.invariants = new InvariantChecker({ persistBeforeSend: options.checkPersistBeforeSend ?? true });
    this.trace = new TraceDigest(options.onTrace);
    const master = createPrng(options.seed);
    const mutations: TestingMutations = options.mutation ? { [options.mutation]: true } : {};
    this.profile = drawProfile(master.split(), options.nodeCount, mutations);
    this.#raftPrngs = master.split();
    this.#simPrng = master.split();
    this.baseNetwork = this.profile.network;
    this.network = new SimNetwork(master.split(), this.profile.network);
    const diskPrngs = master.split();
    const voters = Array.from({ length: options.nodeCount }, (_, i) => `n${i + 1}`);
    const confState: ConfState = { voters: [...voters].sort(), learners: [] };
    this.#latestConf = { index: 1, conf: confState };
    const spares = Array.from({ length: this.profile.spareCount }, (_, i) => `n${options.nodeCount + i + 1}`);
    for (const id of [...voters, ...spares]) {
      const isVoter = voters.includes(id);
      const disk = new SimDisk(() => (isVoter ? new MemoryStorage({ confState }) : new MemoryStorage()), diskPrngs.split(), this.profile.disk);
      const node = new SimNode(id, disk, this, this.profile.raft);
      this.nodes.push(node);
      this.#byId.set(id, node);
    }
    this.workload = new Workload(this, master.split(), this.profile.workload);
    this.faults = new FaultScheduler(this, master.split(), this.profile.faults, options.nodeCount);
  }

  // ---- NodeWorld ----

  send(from: SimNode, message: Message): void {
    this.#stats.messagesSent++;
    const to = this.#byId.get(message.to);
    const outcome = this.network.route(message.from, message.to, this.nowMs);
    this.trace.record(
      this.nowMs,
      'send',
      message.type,
      message.from,
      message.to,
      message.term,
      message.index,
      message.logTerm,
      message.entries.length,
      message.commit,
      message.reject,
      outcome.delivered ? outcome.deliverAtMs.length : outcome.reason,
    );
    if (to === undefined || !outcome.delivered) {
      this.#stats.messagesDropped++;
      if (message.type === 'snap') this.#reportSnapshotLater(from, from.incarnation, message.to, false);
      if (!outcome.delivered && outcome.reason === 'partition' && this.#simPrng.nextFloat() < 0.5) {
        const incarnation = from.incarnation;
        this.schedule(this.nowMs + 1 + this.#simPrng.nextInt(5), `${from.id} finds ${message.to} unreachable`, () => {
          if (from.up && from.incarnation === incarnation) from.reportUnreachable(message.to);
        });
      }
      return;
    }
    outcome.deliverAtMs.forEach((atMs, copy) => {
      this.#queue.push(atMs, {
        kind: 'deliver',
        message: cloneMessage(message),
        senderIncarnation: from.incarnation,
        reportSnapshot: message.type === 'snap' && copy === 0,
      });
    });
  }

  scheduleFsync(node: SimNode, generation: number, fsyncId: number, atMs: number): void {
    this.#queue.push(atMs, { kind: 'fsync', node, generation, fsyncId });
  }

  nextRaftPrng(): Prng {
    return this.#raftPrngs.split();
  }

  onConfApplied(node: SimNode, index: number, confState: ConfState): void {
    if (index > this.#latestConf.index) {
      this.#latestConf = { index, conf: { voters: [...confState.voters], learners: [...confState.learners] } };
      this.#stats.confChangesApplied++;
      this.note(`membership at ${index}: voters ${confState.voters.join(',')} learners ${confState.learners.join(',') || '-'}`);
    }
  }

  onBecameLeader(node: SimNode, term: number): void {
    this.faults.onBecameLeader(node, term);
  }

  onLeaderCommit(node: SimNode, term: number, commit: number): void {
    this.faults.onLeaderCommit(node, term, commit);
  }

  requestCrash(node: SimNode, reason: string): void {
    this.schedule(this.nowMs, `trap crash ${node.id}`, () => this.faults.trapCrash(node, reason));
  }

  // ---- WorkloadWorld / FaultWorld ----

  schedule(atMs: number, label: string, run: () => void): void {
    this.#queue.push(Math.max(atMs, this.nowMs), { kind: 'call', label, run });
  }

  leaderHint(): SimNode | undefined {
    return this.leader() ?? this.#lastLeader;
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes) {
      if (node.up && node.leaderTerm !== null && (best === undefined || node.leaderTerm > best.leaderTerm!)) best = node;
    }
    if (best !== undefined) this.#lastLeader = best;
    return best;
  }

  latestConf(): ConfState {
    return this.#latestConf.conf;
  }

  crash(node: SimNode, reason: string): void {
    const lost = node.crash();
    this.#stats.crashes++;
    this.note(`${reason}: ${node.id} down, ${lost} unsynced write(s) lost`);
  }

  restart(node: SimNode): void {
    node.restart();
    this.note(`restart ${node.id} (durable commit ${node.commit}, applied ${node.kv.appliedIndex})`);
    this.#startTicking(node);
  }

  note(text: string): void {
    this.trace.record(this.nowMs, 'note', text);
    this.#notes.push(`t=${this.nowMs}ms step=${Math.floor(this.nowMs / TICK_MS)} ${text}`);
    if (this.#notes.length > RECENT_NOTES * 2) this.#notes.splice(0, this.#notes.length - RECENT_NOTES);
  }

  // ---- the run ----

  #startTicking(node: SimNode): void {
    const incarnation = node.incarnation;
    this.#queue.push(this.nowMs + 1 + this.#simPrng.nextInt(TICK_MS), { kind: 'tick', node, incarnation });
  }

  #reportSnapshotLater(from: SimNode, incarnation: number, to: NodeId, ok: boolean): void {
    this.schedule(this.nowMs + 1 + this.#simPrng.nextInt(5), `${from.id} learns snapshot to ${to} ${ok ? 'arrived' : 'failed'}`, () => {
      if (from.up && from.incarnation === incarnation) from.reportSnapshot(to, ok);
    });
  }

  #handle(event: SimEvent): void {
    switch (event.kind) {
      case 'tick': {
        const { node, incarnation } = event;
        if (!node.up || node.incarnation !== incarnation) return;
        node.tick();
        // A little jitter: node clocks are not in lock step.
        if (node.up && node.incarnation === incarnation) {
          this.#queue.push(this.nowMs + TICK_MS - 1 + this.#simPrng.nextInt(3), event);
        }
        return;
      }
      case 'deliver': {
        const message = event.message;
        const to = this.#byId.get(message.to)!;
        const from = this.#byId.get(message.from)!;
        const ok = to.up && !this.network.isCut(message.from, message.to);
        if (event.reportSnapshot) this.#reportSnapshotLater(from, event.senderIncarnation, message.to, ok);
        if (!ok) {
          this.#stats.messagesDropped++;
          this.trace.record(this.nowMs, 'lost', message.type, message.from, message.to);
          return;
        }
        this.#stats.messagesDelivered++;
        this.trace.record(this.nowMs, 'deliver', message.type, message.from, message.to, message.term, message.index);
        to.receive(message);
        return;
      }
      case 'fsync':
        event.node.onFsyncDone(event.generation, event.fsyncId);
        return;
      case 'call':
        this.trace.record(this.nowMs, 'call', event.label);
        event.run();
        return;
    }
  }

  #maintenance(): void {
    const every = this.profile.snapshotEveryEntries;
    for (const node of this.nodes) {
      if (node.up && node.kv.appliedIndex - node.disk.live.snapshot().metadata.index >= every) {
        node.compact(this.profile.compactKeepEntries);
      }
    }
  }

  run(): SeedResult {
    const options = this.#options;
    const faultEndMs = options.steps * TICK_MS;
    const quietEndMs = faultEndMs + (options.quietTicks ?? DEFAULT_QUIET_TICKS) * TICK_MS;
    let violation: SeedResult['violation'] = null;

    for (const node of this.nodes) this.#startTicking(node);
    const everyTick = (): void => {
      if (this.nowMs < faultEndMs) this.faults.onTick();
      this.#maintenance();
      this.schedule(this.nowMs + TICK_MS, 'tick', everyTick);
    };
    this.schedule(TICK_MS, 'tick', everyTick);
    this.schedule(0, 'clients start', () => this.workload.start());
    this.schedule(faultEndMs, 'quiet period', () => this.#beginQuiet(quietEndMs));

    try {
      for (;;) {
        const next = this.#queue.pop();
        if (next === undefined || next.timeMs > quietEndMs) break;
        this.nowMs = next.timeMs;
        this.#stats.events++;
        this.#handle(next.item);
        if (this.#finished) break;
      }
    } catch (error) {
      if (!(error instanceof InvariantViolation)) throw error;
      violation = { ...error.info, step: Math.floor(this.nowMs / TICK_MS), virtualTimeMs: this.nowMs };
      this.note(`VIOLATION ${error.message}`);
    }
    if (violation === null && !this.#finished) {
      const leader = this.leader();
      this.#liveness = {
        ok: false,
        detail:
          leader === undefined
            ? `no leader at the end of the quiet period (${options.quietTicks ?? DEFAULT_QUIET_TICKS} ticks)`
            : `leader ${leader.id} (term ${leader.leaderTerm}) but the final write was not acknowledged within the quiet period`,
      };
    }
    this.workload.finish();
    const operations = this.workload.recorder.operations();
    let linearizability: SeedResult['linearizability'] = { result: 'skipped', detail: 'safety violation', operations: operations.length, elapsedMs: 0 };
    if (violation === null) {
      const check = checkOperations(kvModel, operations, { timeoutMs: options.checkerTimeoutMs ?? 10_000 });
      const detail =
        check.result === 'illegal'
          ? check.illegal.explanation
          : check.result === 'unknown'
            ? `budget spent on keys ${check.undecidedKeys.join(',')}`
            : '';
      linearizability = { result: check.result, detail, operations: operations.length, elapsedMs: check.elapsedMs };
      if (check.result === 'illegal') linearizability.timeline = renderIllegal(kvModel, check.illegal);
    }
    return {
      seed: options.seed,
      nodeCount: options.nodeCount,
      steps: options.steps,
      mutation: options.mutation ?? null,
      checkPersistBeforeSend: options.checkPersistBeforeSend ?? true,
      violation,
      liveness: violation === null ? this.#liveness : { ok: true, detail: 'not checked (safety violation)' },
      linearizability,
      traceDigest: this.trace.hex(),
      stats: this.#runStats(),
      recentNotes: this.#notes.slice(-RECENT_NOTES),
    };
  }

  #beginQuiet(quietEndMs: number): void {
    this.faults.quiet();
    this.workload.stop();
    this.schedule(this.nowMs + PROBE_DELAY_TICKS * TICK_MS, 'liveness probe', () => {
      const startedMs = this.nowMs;
      this.workload.probeWrite(1000, 'probe', quietEndMs, (acknowledged) => {
        if (!acknowledged) return;
        const leader = this.leader();
        this.#liveness = {
          ok: true,
          detail: `final write acknowledged after ${this.nowMs - startedMs} ms of quiet${leader ? `, leader ${leader.id} term ${leader.leaderTerm}` : ''}`,
        };
        this.#finished = true;
      });
    });
  }

  #runStats(): RunStats {
    const sum = (pick: (n: SimNode) => number): number => this.nodes.reduce((total, n) => total + pick(n), 0);
    const w = this.workload.stats;
    return {
      events: this.#stats.events,
      virtualTimeMs: this.nowMs,
      messagesSent: this.#stats.messagesSent,
      messagesDelivered: this.#stats.messagesDelivered,
      messagesDropped: this.#stats.messagesDropped,
      leaders: this.invariants.counts.leaders,
      crashes: this.#stats.crashes,
      lostWrites: sum((n) => n.stats.lostWrites),
      snapshotsInstalled: sum((n) => n.stats.snapshotsInstalled),
      compactions: sum((n) => n.stats.compactions),
      confChangesApplied: this.#stats.confChangesApplied,
      committedEntries: this.invariants.counts.committed,
      ackedWrites: this.invariants.counts.acked,
      opsInvoked: w.invoked,
      opsCompleted: w.completed,
      opsOpen: w.open,
      faults: { ...this.faults.counts },
    };
  }
}

export function runSeed(options: SimOptions): SeedResult {
  return new Simulation(options).run();
}

/** Deep copy, as a real transport would deliver: the receiver never shares the sender's objects. */
export function cloneMessage(message: Message): Message {
  const copy: Message = { ...message, entries: message.entries.map((e) => ({ ...e, data: e.data.slice() })) };
  if (message.snapshot) {
    const { metadata, data } = message.snapshot;
    copy.snapshot = {
      metadata: { ...metadata, confState: { voters: [...metadata.confState.voters], learners: [...metadata.confState.learners] } },
      data: data.slice(),
    };
  }
  if (message.context) copy.context = message.context.slice();
  return copy;
}
