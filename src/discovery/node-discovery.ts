import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch as processArch, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type FormationDecision, type FormationMemory, formationStep, initialMemory } from './formation.ts';
import { MdnsDiscovery } from './mdns.ts';
import { type Announcement, type FormationState, type Peer, peerHost } from './records.ts';

export interface DiscoveryConfig {
  /**
   * Which cluster this node belongs to; nodes of other clusters are ignored. The security work
   * sets it to the CA fingerprint of the cluster bundle; until then it comes from --cluster-id.
   */
  clusterId: string;
  nodeName: string;
  dataDir: string;
  /** Concrete IPv4 host the peers reach this node at, or a wildcard (then every interface's address is announced). */
  host: string;
  peerPort: number;
  clientPort: number;
  apiPort: number;
  version: string;
  /** --bootstrap-expect; null for a node that only announces (static or --join membership). */
  expect: number | null;
  settleMs: number;
  announceIntervalMs: number;
  mdnsPort?: number;
  /** Hosts (from --join) to reach by unicast as well, where multicast does not pass. */
  unicastHosts: string[];
  /**
   * Announce nothing until markMember() (only browse): a board with only the join token looks for
   * a member and must not be counted as a forming board (it cannot be a first voter).
   */
  quietUntilMember?: boolean;
  logger: Logger;
}

/** What one try to enter the cluster through a member gave (see NodeDiscovery.searchMember). */
export type MemberAttempt<T> =
  | { kind: 'accepted'; value: T }
  /** Not a member of our cluster after all (e.g. it serves another CA): never tried again. */
  | { kind: 'refused'; why: string }
  /** Maybe later (unreachable, not ready): tried again after a pause. */
  | { kind: 'retry'; why: string };

/** No member was found (or none accepted) within the search time; the message says what to check. */
export class MemberSearchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemberSearchError';
  }
}

const memberRetryMs = 1_000;
const memberGatherMs = 500;
const searchProgressMs = 5_000;

/** How a new node enters the cluster, as decided by formation. */
export type FormationOutcome = { kind: 'bootstrap'; members: Record<string, string> } | { kind: 'join'; via: string[] };

const lockFileName = 'formation.json';
const nodeIdFileName = 'node-id';

/** This data dir's node id: 12 random hex digits, made once and kept (orders nodes at bootstrap). */
export function nodeIdOf(dataDir: string): string {
  const file = join(dataDir, nodeIdFileName);
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{12}$/.test(id)) return id;
    throw new Error(`${file} does not hold a node id (12 hex digits); delete it to make a new one`);
  }
  mkdirSync(dataDir, { recursive: true });
  const id = randomBytes(6).toString('hex');
  writeDurably(file, `${id}\n`);
  return id;
}

function writeDurably(file: string, text: string): void {
  const temp = `${file}.tmp`;
  writeFileSync(temp, text);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, file);
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((item) => item !== undefined && item.family === 'IPv4' && !item.internal)
    .map((item) => item!.address);
}

const archNames: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

/** One node's presence on the LAN: its announcement, the browse table, and bootstrap-expect formation. */
export class NodeDiscovery {
  readonly nodeId: string;
  private state: FormationState = 'forming';
  private memory: FormationMemory = initialMemory(Date.now());
  private readonly mdns: MdnsDiscovery;
  private readonly addresses: string[];
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly c: DiscoveryConfig) {
    this.nodeId = nodeIdOf(c.dataDir);
    const wildcard = c.host === '0.0.0.0' || c.host === '';
    this.addresses = wildcard ? lanAddresses() : /^\d+\.\d+\.\d+\.\d+$/.test(c.host) ? [c.host] : lanAddresses();
    const lock = this.readLock();
    if (lock) this.memory = { ...this.memory, boot: lock, phase: 'ready' };
    this.mdns = new MdnsDiscovery({
      self: () => this.announcement(),
      logger: c.logger,
      ...(c.mdnsPort !== undefined ? { port: c.mdnsPort } : {}),
      announceIntervalMs: c.announceIntervalMs,
      unicastHosts: c.unicastHosts,
      onChange: () => this.wake?.(),
      quiet: () => c.quietUntilMember === true && this.state !== 'member',
    });
  }

  announcement(): Announcement {
    return {
      clusterId: this.c.clusterId,
      nodeName: this.c.nodeName,
      nodeId: this.nodeId,
      peerPort: this.c.peerPort,
      clientPort: this.c.clientPort,
      apiPort: this.c.apiPort,
      arch: archNames[processArch()] ?? processArch(),
      version: this.c.version,
      state: this.state,
      boot: this.memory.boot ?? [],
      phase: this.state === 'member' ? null : this.memory.phase,
      unicast: this.c.unicastHosts.length > 0,
      addresses: this.addresses,
    };
  }

  async start(): Promise<void> {
    await this.mdns.start();
  }

  /** Peers of this node's cluster heard recently. */
  peers(): Peer[] {
    return this.mdns.peers().filter((peer) => peer.clusterId === this.c.clusterId);
  }

  /** Members of this node's cluster heard recently, in node-id order (the order they are tried in). */
  members(): Peer[] {
    return this.peers()
      .filter((peer) => peer.state === 'member')
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  /**
   * Browses until `attempt` accepts one of the members of this node's cluster (members in node-id
   * order; a refused one is never tried again, a "retry" one after a pause), and returns what it
   * gave. Logs its progress; throws MemberSearchError after `timeoutMs` with what it heard, and
   * whatever `attempt` throws (a fatal refusal).
   */
  async searchMember<T>(attempt: (peer: Peer) => Promise<MemberAttempt<T>>, timeoutMs: number): Promise<{ value: T; via: Peer }> {
    const startedMs = Date.now();
    const refused = new Map<string, string>();
    const retryAtMs = new Map<string, number>();
    const lastWhy = new Map<string, string>();
    let firstRefusal: string | undefined;
    const keyOf = (peer: Peer) => `${peer.nodeId}@${peerHost(peer)}:${peer.clientPort}`;
    let progressAtMs = startedMs;
    // The answers to the first query arrive together (responders may delay them by up to 120 ms,
    // RFC 6762 §6): gather them a moment so the node-id order holds among all members in sight,
    // not just the first to answer.
    const firstAttemptAtMs = startedMs + Math.min(this.c.announceIntervalMs, memberGatherMs);
    while (!this.stopped) {
      const now = Date.now();
      for (const peer of now >= firstAttemptAtMs ? this.members() : []) {
        const key = keyOf(peer);
        if (refused.has(key) || (retryAtMs.get(key) ?? 0) > now) continue;
        const address = `${peerHost(peer)}:${peer.clientPort}`;
        this.c.logger.info({ member: peer.nodeName, via: address }, 'found a member of the cluster by mDNS: asking it to admit this node');
        const result = await attempt(peer);
        if (result.kind === 'accepted') return { value: result.value, via: peer };
        if (result.kind === 'refused') {
          refused.set(key, `${peer.nodeName} at ${address}`);
          firstRefusal ??= result.why;
          this.c.logger.warn({ member: peer.nodeName, via: address, why: result.why }, 'refused a node that announces this cluster: trying the next one');
        } else {
          retryAtMs.set(key, Date.now() + memberRetryMs);
          if (lastWhy.get(key) !== result.why) this.c.logger.info({ member: peer.nodeName, via: address, why: result.why }, 'member did not admit this node yet; trying again shortly');
          lastWhy.set(key, result.why);
        }
        if (this.stopped) break;
      }
      const elapsedMs = Date.now() - startedMs;
      if (elapsedMs >= timeoutMs) throw new MemberSearchError(this.searchFailure(elapsedMs, [...refused.values()], firstRefusal, [...lastWhy.values()]));
      if (Date.now() - progressAtMs >= searchProgressMs) {
        progressAtMs = Date.now();
        this.c.logger.info(this.heard(), `still looking for a member of cluster ${this.c.clusterId} by mDNS (${Math.round(elapsedMs / 1000)} s of ${Math.round(timeoutMs / 1000)} s)`);
      }
      await this.pause(Math.max(50, Math.min(250, this.c.announceIntervalMs)));
    }
    throw new Error('discovery stopped before a member was found');
  }

  private heard(): { otherClusters: number; forming: number; members: number } {
    const all = this.mdns.peers();
    const ours = all.filter((peer) => peer.clusterId === this.c.clusterId);
    return { otherClusters: all.length - ours.length, forming: ours.filter((peer) => peer.state === 'forming').length, members: ours.filter((peer) => peer.state === 'member').length };
  }

  private searchFailure(elapsedMs: number, refused: string[], firstRefusal: string | undefined, retried: string[]): string {
    const heard = this.heard();
    const seconds = Math.round(elapsedMs / 1000);
    const parts = [`no member of cluster ${this.c.clusterId} admitted this node within ${seconds} s of mDNS browsing`];
    const seen = `heard ${heard.members} member(s) and ${heard.forming} forming board(s) of this cluster, and ${heard.otherClusters} board(s) of other clusters`;
    parts.push(refused.length > 0 ? `${seen}; refused ${refused.length} that announce this cluster id but are not the token's cluster (${refused.join(', ')}; the first said: ${firstRefusal})` : seen);
    if (retried.length > 0) parts.push(`last answers: ${[...new Set(retried)].join('; ')}`);
    parts.push(
      'Check that this board is on the same network as the cluster and that multicast passes (many Wi-Fi access points drop it; `avahi-browse -rt _bramble._tcp` on this board lists what it hears), that the token is this cluster\'s (`bramble token` on a member prints it), or give a member\'s address: --join <member address>:7379',
    );
    return parts.join('. ');
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }

  get counters() {
    return this.mdns.counters;
  }

  /** From now on this node announces itself as a member (others join through it). */
  markMember(): void {
    this.state = 'member';
    this.mdns.announce();
  }

  /**
   * Waits until formation decides: bootstrap with the agreed first voters (name -> peer address),
   * or join through the client addresses of members. Resolves only with a decision; rejects if
   * stopped first.
   */
  async form(): Promise<FormationOutcome> {
    const expect = this.c.expect;
    if (expect === null) throw new Error('form() needs --bootstrap-expect');
    let lastReason = '';
    while (!this.stopped) {
      const step = formationStep(
        { selfId: this.nodeId, clusterId: this.c.clusterId, expect, settleMs: this.c.settleMs, nowMs: Date.now(), peers: this.peers() },
        this.memory,
      );
      const before = this.announcement();
      const decision: FormationDecision = step.decision;
      if (decision.kind === 'lock') this.writeLock(decision.boot);
      this.memory = step.memory;
      // A joiner must not be counted as a first voter of any set it proposed or was locked on.
      if (decision.kind === 'join') {
        this.memory = { ...this.memory, boot: null, phase: null };
        rmSync(join(this.c.dataDir, lockFileName), { force: true });
      }
      const after = this.announcement();
      if (before.phase !== after.phase || before.boot.join() !== after.boot.join()) this.mdns.announce();
      if (decision.kind === 'bootstrap') return this.bootstrapOutcome(decision.members);
      if (decision.kind === 'join') {
        this.c.logger.info({ via: decision.via.map((peer) => peer.nodeName) }, 'found the cluster: joining it as a learner');
        return { kind: 'join', via: decision.via.map((peer) => `${peerHost(peer)}:${peer.clientPort}`) };
      }
      const reason = decision.kind === 'wait' ? decision.reason : `${decision.kind} ${decision.boot.length} first voters`;
      if (reason !== lastReason) this.c.logger.info({ peers: this.peers().length }, `formation: ${reason}`);
      lastReason = reason;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(50, Math.min(this.c.settleMs / 4, this.c.announceIntervalMs)));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
    throw new Error('discovery stopped before the cluster formed');
  }

  private bootstrapOutcome(others: Peer[]): FormationOutcome {
    const self = this.announcement();
    const members: Record<string, string> = { [this.c.nodeName]: `${self.addresses[0] ?? this.c.host}:${this.c.peerPort}` };
    for (const peer of others) {
      if (peer.nodeName in members) {
        throw new Error(`two of the first voters are named "${peer.nodeName}": give one of the boards another --name (node ids ${peer.nodeId} and ${this.nodeId})`);
      }
      members[peer.nodeName] = `${peerHost(peer)}:${peer.peerPort}`;
    }
    // The same order on every first voter: it becomes the initial configuration.
    const sorted = Object.fromEntries(Object.entries(members).sort(([a], [b]) => a.localeCompare(b)));
    this.c.logger.info({ members: sorted }, 'formation: every first voter is ready; bootstrapping the cluster');
    return { kind: 'bootstrap', members: sorted };
  }

  private readLock(): string[] | null {
    const file = join(this.c.dataDir, lockFileName);
    if (!existsSync(file)) return null;
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { boot?: unknown };
    return Array.isArray(parsed.boot) && parsed.boot.every((id) => typeof id === 'string') ? (parsed.boot as string[]) : null;
  }

  /** A lock must survive a crash: after announcing it, this node may be counted on as a first voter. */
  private writeLock(boot: string[]): void {
    writeDurably(join(this.c.dataDir, lockFileName), `${JSON.stringify({ boot })}\n`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.mdns.stop();
  }
}
