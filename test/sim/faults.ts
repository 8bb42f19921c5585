// The fault scheduler: every tick of the fault phase it may start one fault, drawn from the
// run's weights; each fault schedules its own end (restart, heal, spell over). Faults overlap
// freely, and membership changes, snapshots and leadership transfers happen in the middle of
// crashes and partitions. Choices that depend on the cluster (isolate *the leader*, remove
// *the leader*) look at the state the simulation is in at that moment; everything stays
// deterministic because the state itself is.

import { ProposalDroppedError } from '../../src/raft/index.ts';
import type { ConfChange, ConfState, NodeId, Prng } from '../../src/raft/index.ts';
import { linksBetween, linksFrom } from './network.ts';
import type { NetworkConditions, SimNetwork } from './network.ts';
import type { FaultKind, FaultProfile } from './profile.ts';
import type { CrashTrap, SimNode } from './sim-node.ts';

export interface FaultWorld {
  readonly nowMs: number;
  readonly tickMs: number;
  readonly nodes: readonly SimNode[];
  readonly network: SimNetwork;
  readonly baseNetwork: NetworkConditions;
  schedule(atMs: number, label: string, run: () => void): void;
  crash(node: SimNode, reason: string): void;
  restart(node: SimNode): void;
  /** The up node whose latest Ready says it leads, with the highest term. */
  leader(): SimNode | undefined;
  /** Membership as of the highest index any node applied. */
  latestConf(): ConfState;
  /** Records a fault in the trace and the run's fault log. */
  note(text: string): void;
}

export class FaultScheduler {
  readonly #world: FaultWorld;
  readonly #prng: Prng;
  readonly #profile: FaultProfile;
  readonly #totalWeight: number;
  #faultSeq = 0;
  #quiet = false;
  #pendingChange: { change: ConfChange; untilMs: number } | null = null;
  /** Leaderships still to cut short by the current leader-churn fault. */
  #churnLeft = 0;
  /** Leaderships (`id@term`) to isolate at their first commit advance. */
  readonly #isolateAtFirstCommit = new Set<string>();
  readonly #minVoters: number;
  readonly #maxVoters: number;
  readonly counts: Partial<Record<FaultKind | 'majorityCrash', number>> = {};

  constructor(world: FaultWorld, prng: Prng, profile: FaultProfile, nodeCount: number) {
    this.#world = world;
    this.#prng = prng;
    this.#profile = profile;
    this.#totalWeight = Object.values(profile.weights).reduce((a, b) => a + b, 0);
    this.#minVoters = nodeCount <= 3 ? 2 : 3;
    this.#maxVoters = nodeCount + 1;
  }

  /** Called once per tick during the fault phase. */
  onTick(): void {
    if (this.#quiet) return;
    const prng = this.#prng;
    if (this.#profile.allowMajorityDown && prng.nextFloat() < 0.002) this.#majorityCrash();
    if (prng.nextFloat() >= this.#profile.faultChancePerTick || this.#totalWeight === 0) return;
    let roll = prng.nextInt(this.#totalWeight);
    for (const [kind, weight] of Object.entries(this.#profile.weights) as [FaultKind, number][]) {
      if (roll < weight) {
        this.#start(kind);
        return;
      }
      roll -= weight;
    }
  }

  /** The quiet period: every fault ends and stays ended. */
  quiet(): void {
    this.#quiet = true;
    const world = this.#world;
    world.network.healAll();
    world.network.endSpell();
    world.network.setBaseConditions({ ...world.baseNetwork, dropRate: 0, duplicateRate: 0, longDelayRate: 0 });
    for (const node of world.nodes) {
      node.crashTrap = null;
      node.disk.endSlowSpell();
      if (!node.up) world.restart(node);
    }
    world.note('quiet: network healed, every node up');
  }

  #count(kind: FaultKind | 'majorityCrash'): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  #ticks(min: number, max: number): number {
    return (min + this.#prng.nextInt(max - min + 1)) * this.#world.tickMs;
  }

  #pickNode(nodes: readonly SimNode[]): SimNode | undefined {
    return nodes.length === 0 ? undefined : nodes[this.#prng.nextInt(nodes.length)];
  }

  #upNodes(): SimNode[] {
    return this.#world.nodes.filter((n) => n.up);
  }

  #start(kind: FaultKind): void {
    switch (kind) {
      case 'crash':
        return this.#crash(this.#pickNode(this.#upNodes()), kind);
      case 'crashLeader':
        return this.#crash(this.#world.leader(), kind);
      case 'crashTrap':
        return this.#crashTrap();
      case 'isolate':
        return this.#isolate(this.#pickNode(this.#world.nodes), kind);
      case 'isolateLeader':
        return this.#isolate(this.#world.leader(), kind);
      case 'leaderChurn':
        this.#churnLeft = 2 + this.#prng.nextInt(3);
        return this.#world.note(`leader churn: the next ${this.#churnLeft} leaders will be isolated early`);
      case 'split':
        return this.#split();
      case 'oneWay':
        return this.#oneWay();
      case 'leaderDeaf':
      case 'leaderMute':
        return this.#leaderOneWay(kind);
      case 'lossy':
      case 'duplicating':
      case 'reordering':
        return this.#networkSpell(kind);
      case 'slowDisk':
        return this.#slowDisk();
      case 'membership':
        return this.#membership();
      case 'transfer':
        return this.#transfer();
      case 'compact':
        return this.#compact();
    }
  }

  // ---- crashes ----

  /** Whether crashing `node` keeps the down voters a minority (unless this run allows more). */
  #mayCrash(node: SimNode): boolean {
    if (this.#profile.allowMajorityDown) return true;
    const voters = this.#world.latestConf().voters;
    if (!voters.includes(node.id)) return true;
    const down = this.#world.nodes.filter((n) => !n.up && voters.includes(n.id)).length;
    return down + 1 <= Math.floor((voters.length - 1) / 2);
  }

  #crash(node: SimNode | undefined, kind: FaultKind): void {
    if (node === undefined || !node.up || !this.#mayCrash(node)) return;
    this.#count(kind);
    this.#world.crash(node, kind === 'crashLeader' ? 'leader crash' : 'crash');
    this.#scheduleRestart(node, this.#prng.nextFloat() < 0.8 ? this.#ticks(3, 60) : this.#ticks(60, 300));
  }

  #scheduleRestart(node: SimNode, afterMs: number): void {
    const world = this.#world;
    const incarnation = node.incarnation;
    world.schedule(world.nowMs + afterMs, `restart ${node.id}`, () => {
      if (!node.up && node.incarnation === incarnation) world.restart(node);
    });
  }

  /**
   * Leader churn cuts each of the next few leaders off either as soon as it is elected (its
   * first entries stay its own: competing uncommitted tails from different terms) or right
   * after its first commit advance, before that news or its next entries leave. Together they
   * build Raft's Figure 8: an old-term tail re-replicated by a later leader, then a node with a
   * newer-term tail elected.
   */
  onBecameLeader(node: SimNode, term: number): void {
    if (this.#churnLeft === 0 || this.#quiet) return;
    this.#churnLeft--;
    this.#count('leaderChurn');
    if (this.#prng.nextFloat() < 0.5) {
      this.#partition(`isolate new leader ${node.id} of term ${term}`, linksBetween([node.id], this.#others(node)), this.#ticks(5, 60));
    } else {
      this.#isolateAtFirstCommit.add(`${node.id}@${term}`);
    }
  }

  /** `node`, leading `term`, advanced its commit index; called before that Ready's messages leave. */
  onLeaderCommit(node: SimNode, term: number, commit: number): void {
    if (!this.#isolateAtFirstCommit.delete(`${node.id}@${term}`) || this.#quiet) return;
    this.#partition(
      `isolate leader ${node.id} of term ${term} at its first commit (${commit})`,
      linksBetween([node.id], this.#others(node)),
      this.#ticks(5, 60),
    );
  }

  /** Crash requested by a node's trap; the limit is checked when it fires. */
  trapCrash(node: SimNode, reason: string): void {
    if (this.#quiet || !node.up || !this.#mayCrash(node)) return;
    this.#world.crash(node, `trap: ${reason}`);
    this.#scheduleRestart(node, this.#ticks(2, 40));
  }

  #crashTrap(): void {
    const leader = this.#world.leader();
    const roll = this.#prng.nextFloat();
    const trap: CrashTrap =
      roll < 0.3 ? 'afterAckSent' : roll < 0.55 ? 'afterPersist' : roll < 0.75 ? 'afterClientAck' : 'afterLeaderCommit';
    const leaderTrap = trap === 'afterClientAck' || trap === 'afterLeaderCommit';
    const node = leaderTrap && leader !== undefined ? leader : this.#pickNode(this.#upNodes());
    if (node === undefined) return;
    this.#count('crashTrap');
    node.crashTrap = trap;
    this.#world.note(`trap ${trap} armed on ${node.id}`);
  }

  #majorityCrash(): void {
    const voters = this.#world.latestConf().voters;
    const majority = Math.floor(voters.length / 2) + 1;
    const up = this.#world.nodes.filter((n) => n.up && voters.includes(n.id));
    if (up.length < majority) return;
    this.#count('majorityCrash');
    const downFor = this.#ticks(20, 100);
    for (let i = 0; i < majority; i++) {
      const node = up.splice(this.#prng.nextInt(up.length), 1)[0]!;
      this.#world.crash(node, 'majority crash');
      this.#scheduleRestart(node, downFor + this.#ticks(0, 10));
    }
  }

  // ---- partitions ----

  #partition(label: string, links: [NodeId, NodeId][], durationMs: number): void {
    const world = this.#world;
    const id = `p${++this.#faultSeq}`;
    world.network.cut(id, links);
    world.note(`${label} (${id}, ${durationMs / world.tickMs} ticks)`);
    world.schedule(world.nowMs + durationMs, `heal ${id}`, () => {
      world.network.heal(id);
      world.note(`heal ${id}`);
    });
  }

  #others(node: SimNode): NodeId[] {
    return this.#world.nodes.filter((n) => n !== node).map((n) => n.id);
  }

  #isolate(node: SimNode | undefined, kind: FaultKind): void {
    if (node === undefined) return;
    this.#count(kind);
    this.#partition(`isolate ${node.id}`, linksBetween([node.id], this.#others(node)), this.#ticks(5, 120));
  }

  #split(): void {
    const ids = this.#world.nodes.map((n) => n.id);
    const shuffled = [...ids];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.#prng.nextInt(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const cut = 1 + this.#prng.nextInt(shuffled.length - 1);
    const a = shuffled.slice(0, cut);
    const b = shuffled.slice(cut);
    this.#count('split');
    this.#partition(`split ${a.join(',')} | ${b.join(',')}`, linksBetween(a, b), this.#ticks(10, 150));
  }

  #oneWay(): void {
    const nodes = this.#world.nodes;
    const from = this.#pickNode(nodes)!;
    const targets = this.#others(from).filter(() => this.#prng.nextFloat() < 0.6);
    if (targets.length === 0) return;
    this.#count('oneWay');
    this.#partition(`one-way cut ${from.id} -> ${targets.join(',')}`, linksFrom([from.id], targets), this.#ticks(5, 100));
  }

  #leaderOneWay(kind: 'leaderDeaf' | 'leaderMute'): void {
    const leader = this.#world.leader();
    if (leader === undefined) return;
    this.#count(kind);
    const others = this.#others(leader);
    // Deaf: the leader still sends but hears nothing back. Mute: it hears but nobody hears it.
    const links = kind === 'leaderDeaf' ? linksFrom(others, [leader.id]) : linksFrom([leader.id], others);
    this.#partition(`${kind === 'leaderDeaf' ? 'deafen' : 'mute'} leader ${leader.id}`, links, this.#ticks(5, 80));
  }

  // ---- network and disk spells ----

  #networkSpell(kind: 'lossy' | 'duplicating' | 'reordering'): void {
    const world = this.#world;
    const base = world.baseNetwork;
    const prng = this.#prng;
    let conditions: NetworkConditions;
    if (kind === 'lossy') conditions = { ...base, dropRate: 0.15 + prng.nextFloat() * 0.35 };
    else if (kind === 'duplicating') conditions = { ...base, duplicateRate: 0.2 + prng.nextFloat() * 0.4 };
    else conditions = { ...base, maxDelayMs: 20 + prng.nextInt(60), longDelayRate: 0.1 + prng.nextFloat() * 0.2, longDelayMaxMs: 300 };
    const durationMs = this.#ticks(10, 100);
    this.#count(kind);
    world.network.startSpell(conditions, world.nowMs + durationMs);
    world.note(`${kind} network for ${durationMs / world.tickMs} ticks`);
  }

  #slowDisk(): void {
    const world = this.#world;
    const leader = world.leader();
    const node = leader !== undefined && this.#prng.nextFloat() < 0.4 ? leader : this.#pickNode(this.#upNodes());
    if (node === undefined) return;
    const durationMs = this.#ticks(10, 100);
    this.#count('slowDisk');
    node.disk.startSlowSpell(world.nowMs + durationMs);
    world.note(`slow disk on ${node.id} for ${durationMs / world.tickMs} ticks`);
  }

  // ---- membership, transfers, snapshots ----

  #membership(): void {
    const world = this.#world;
    const conf = world.latestConf();
    const pending = this.#pendingChange;
    if (pending !== null && world.nowMs < pending.untilMs && !applied(conf, pending.change)) return;
    this.#pendingChange = null;
    const leader = world.leader();
    if (leader === undefined) return;
    const prng = this.#prng;
    const candidates: ConfChange[] = [];
    if (conf.voters.length < this.#maxVoters) for (const id of conf.learners) candidates.push({ type: 'addVoter', nodeId: id });
    if (conf.voters.length + conf.learners.length < world.nodes.length) {
      for (const node of world.nodes) {
        if (node.up && !conf.voters.includes(node.id) && !conf.learners.includes(node.id)) {
          candidates.push({ type: 'addLearner', nodeId: node.id });
        }
      }
    }
    if (conf.voters.length > this.#minVoters) {
      // Removing the leader is the hardest case (it must hand over); give it a fair share.
      const target = prng.nextFloat() < 0.35 ? leader.id : conf.voters[prng.nextInt(conf.voters.length)]!;
      candidates.push({ type: prng.nextFloat() < 0.8 ? 'removeNode' : 'addLearner', nodeId: target });
    }
    const change = candidates[prng.nextInt(Math.max(1, candidates.length))];
    if (change === undefined) return;
    const members = world.nodes.filter((n) => n.up && n.isMember());
    const via = prng.nextFloat() < 0.7 ? leader : (this.#pickNode(members) ?? leader);
    this.#count('membership');
    try {
      via.proposeConfChange(change);
      world.note(`propose ${change.type} ${change.nodeId} via ${via.id}`);
      this.#pendingChange = { change, untilMs: world.nowMs + this.#ticks(30, 80) };
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      world.note(`${change.type} ${change.nodeId} refused by ${via.id} (${error.reason})`);
    }
  }

  #transfer(): void {
    const world = this.#world;
    const leader = world.leader();
    if (leader === undefined) return;
    const voters = world.latestConf().voters.filter((id) => id !== leader.id);
    const target = voters[this.#prng.nextInt(Math.max(1, voters.length))];
    if (target === undefined) return;
    const members = world.nodes.filter((n) => n.up && n.isMember());
    const via = this.#prng.nextFloat() < 0.5 ? leader : (this.#pickNode(members) ?? leader);
    this.#count('transfer');
    try {
      via.transferLeadership(target);
      world.note(`transfer leadership ${leader.id} -> ${target} via ${via.id}`);
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      world.note(`transfer to ${target} refused by ${via.id} (${error.reason})`);
    }
  }

  #compact(): void {
    const node = this.#pickNode(this.#upNodes());
    if (node === undefined) return;
    if (node.compact(this.#prng.nextInt(3))) {
      this.#count('compact');
      this.#world.note(`snapshot + compaction on ${node.id} at ${node.kv.appliedIndex}`);
    }
  }
}

function applied(conf: ConfState, change: ConfChange): boolean {
  switch (change.type) {
    case 'addVoter':
      return conf.voters.includes(change.nodeId);
    case 'addLearner':
      return conf.learners.includes(change.nodeId);
    case 'removeNode':
      return !conf.voters.includes(change.nodeId) && !conf.learners.includes(change.nodeId);
  }
}
