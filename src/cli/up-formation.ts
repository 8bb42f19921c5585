import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Autopilot } from '../discovery/autopilot.ts';
import { type FormationOutcome, type MemberAttempt, NodeDiscovery } from '../discovery/node-discovery.ts';
import { maxBootstrapExpect, peerHost } from '../discovery/records.ts';
import type { RaftNode } from '../raftnode/node.ts';
import { formatHostPort } from '../raftnode/transport/index.ts';
import { isBundle } from '../identity/bundle.ts';
import { JoinError, joinWithToken, writeJoinedBundle } from '../identity/join.ts';
import { parseJoinToken } from '../identity/token.ts';
import { UsageError } from './output.ts';
import { type NodeIdentity, nodeBundleDir, nodeHosts, prepareIdentity } from './up-bundle.ts';
import type { HostPort, RawUpFlags, UpOptions } from './up-options.ts';

/** `bramble up --bootstrap-expect N` and its tuning flags (zero-config formation, src/discovery). */
export interface FormationOptions {
  /** Null for a board started with only the join token: it never is a first voter, it looks for a member. */
  bootstrapExpect: number | null;
  /** How long a board with only the token looks for a member by mDNS before it gives up. */
  memberSearchMs: number;
  settleMs: number;
  mdnsIntervalMs: number;
  /** Autopilot's target of voters; 0 = automatic (3, or 5 with five healthy members). */
  voters: number;
  autopilotStableMs: number;
  autopilotDeadMs: number;
  /** A learner silent this long is removed from the configuration; 0 never. */
  autopilotRemoveDeadMs: number;
}

export type FormationFlags = Pick<RawUpFlags, 'bootstrapExpect' | 'bootstrapSettleMs' | 'mdnsIntervalMs' | 'voters' | 'autopilotStableMs' | 'autopilotDeadMs' | 'autopilotRemoveDeadMs' | 'memberSearchMs'>;

function whole(text: string | undefined, flag: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}, got "${text}"`);
  return value;
}

/** A board with only the join token and no --join finds a member by mDNS (zero-config formation without the bundle). */
export function tokenOnly(flags: Pick<RawUpFlags, 'token' | 'join' | 'bundle'>): boolean {
  return flags.token !== undefined && flags.join === undefined && flags.bundle === undefined;
}

/**
 * Null without --bootstrap-expect and without a lone --token: then no mDNS at all (nothing leaves
 * the machine unasked). --token without --join implies discovery (bootstrapExpect null).
 */
export function parseFormationOptions(flags: FormationFlags & Pick<RawUpFlags, 'initialCluster' | 'token' | 'join' | 'bundle'>): FormationOptions | null {
  const tuning = ['bootstrapSettleMs', 'mdnsIntervalMs', 'voters', 'autopilotStableMs', 'autopilotDeadMs', 'autopilotRemoveDeadMs', 'memberSearchMs'] as const;
  const discovering = flags.bootstrapExpect !== undefined || tokenOnly(flags);
  if (!discovering) {
    const stray = tuning.find((key) => flags[key] !== undefined);
    if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} only applies with --bootstrap-expect N or --token without --join (zero-config formation)`);
    return null;
  }
  if (flags.initialCluster !== undefined) throw new UsageError('--bootstrap-expect and --initial-cluster exclude each other: let the boards find each other, or list them yourself');
  const voters = whole(flags.voters, '--voters', 0, 0, 9);
  return {
    bootstrapExpect: flags.bootstrapExpect === undefined ? null : whole(flags.bootstrapExpect, '--bootstrap-expect', 3, 1, maxBootstrapExpect),
    memberSearchMs: whole(flags.memberSearchMs, '--member-search-ms', 120_000, 100),
    settleMs: whole(flags.bootstrapSettleMs, '--bootstrap-settle-ms', 5_000, 0),
    mdnsIntervalMs: whole(flags.mdnsIntervalMs, '--mdns-interval-ms', 1_000, 50),
    voters,
    autopilotStableMs: whole(flags.autopilotStableMs, '--autopilot-stable-ms', 10_000, 0),
    autopilotDeadMs: whole(flags.autopilotDeadMs, '--autopilot-dead-ms', 30_000, 100),
    autopilotRemoveDeadMs: whole(flags.autopilotRemoveDeadMs, '--autopilot-remove-dead-ms', 3_600_000, 0),
  };
}

function lanAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (external) return external.address;
  }
  return undefined;
}

/** With --bootstrap-expect, addresses not given default to this board's LAN address instead of loopback. */
export function withFormationAddressDefaults(flags: RawUpFlags, lan: string | undefined = lanAddress()): RawUpFlags {
  if ((flags.bootstrapExpect === undefined && !tokenOnly(flags)) || !lan) return flags;
  return { ...flags, peerAddr: flags.peerAddr ?? `${lan}:7380`, clientAddr: flags.clientAddr ?? `${lan}:7379`, apiAddr: flags.apiAddr ?? `${lan}:6443` };
}

/**
 * Formation needs the cluster bundle before anything else: its cluster id is what the boards
 * announce and match on, and every first voter must hold the same CA.
 */
export async function prepareFormationIdentity(options: UpOptions, raftDir: string, logger: Logger): Promise<NodeIdentity | null> {
  const resuming = existsSync(raftDir);
  if (!resuming && options.bundle === null && !isBundle(nodeBundleDir(options.dataDir))) {
    throw new UsageError('--bootstrap-expect needs the same cluster bundle on every board: create it once with `bramble cluster init --out DIR`, copy DIR to each board and start each with --bundle DIR (a board added later needs only --token TOKEN)');
  }
  return prepareIdentity(options, { kind: resuming ? 'resume' : 'bootstrap', bootstrapMembers: 2 }, logger);
}

export interface FormationStart {
  discovery: NodeDiscovery;
  /** Null when the data dir already holds a Raft log (the node resumes). */
  outcome: FormationOutcome | null;
}

/** Starts announcing and, for a new data dir, waits until formation decides how this node enters the cluster. */
export async function startFormation(
  f: FormationOptions,
  node: { name: string; dataDir: string; clusterId: string | null; peerAddress: HostPort; clientPort: number; apiPort: number; version: string; joinHosts: string[]; resuming: boolean },
  logger: Logger,
  /** A new board with only the join token: it fetches its credentials from a member (found by mDNS, or --join) and joins it. */
  tokenEntry?: { options: UpOptions },
): Promise<FormationStart> {
  const discovery = new NodeDiscovery({
    // The bundle's cluster id; a data dir from before bundles (resuming only) announces a placeholder.
    clusterId: node.clusterId ?? 'no-bundle',
    nodeName: node.name,
    dataDir: node.dataDir,
    host: node.peerAddress.host,
    peerPort: node.peerAddress.port,
    clientPort: node.clientPort,
    apiPort: node.apiPort,
    version: node.version,
    expect: f.bootstrapExpect,
    settleMs: f.settleMs,
    announceIntervalMs: f.mdnsIntervalMs,
    unicastHosts: node.joinHosts,
    quietUntilMember: tokenEntry !== undefined,
    logger: logger.child({ component: 'discovery' }),
  });
  await discovery.start();
  if (node.resuming) {
    discovery.markMember();
    return { discovery, outcome: null };
  }
  try {
    if (tokenEntry) return { discovery, outcome: await enterWithToken(tokenEntry.options, f, discovery, logger) };
    if (f.bootstrapExpect === null) throw new Error('formation without --bootstrap-expect needs the join token');
    logger.info({ expect: f.bootstrapExpect, clusterId: node.clusterId, nodeId: discovery.nodeId }, 'looking for the other boards (mDNS)');
    return { discovery, outcome: await discovery.form() };
  } catch (error) {
    await discovery.stop();
    throw error;
  }
}

/**
 * A new board with only the token: asks members of the token's cluster id (found by mDNS, or the
 * --join address) for its credentials with the token join, which checks that the member serves
 * the CA the token pins (a board that merely announces the cluster id is refused and the next one
 * tried), and then joins as a learner through that member.
 */
async function enterWithToken(options: UpOptions, f: FormationOptions, discovery: NodeDiscovery, logger: Logger): Promise<FormationOutcome> {
  const token = parseJoinToken(options.token!);
  const dir = nodeBundleDir(options.dataDir);
  // A bundle left by a start that was interrupted after fetching it: keep it, but still find a genuine member to join.
  const haveBundle = isBundle(dir);
  if (f.bootstrapExpect !== null) logger.info(`--bootstrap-expect ${f.bootstrapExpect} does not apply to a board with only the join token: it is never a first voter, it joins a member`);
  const fetch = async (via: string): Promise<void> => {
    const joined = await joinWithToken({ token: options.token!, via, name: options.name, hosts: nodeHosts(options), timeoutMs: 10_000 });
    if (!haveBundle) writeJoinedBundle(dir, joined);
  };
  if (options.join) {
    const via = formatHostPort(options.join);
    logger.info({ via, clusterId: token.clusterId }, 'fetching this node\'s credentials with the join token');
    await fetch(via);
    return { kind: 'join', via: [via] };
  }
  logger.info({ clusterId: token.clusterId, nodeId: discovery.nodeId, searchMs: f.memberSearchMs }, 'looking for a member of the token\'s cluster (mDNS)');
  const startedMs = Date.now();
  const found = await discovery.searchMember(async (peer): Promise<MemberAttempt<string>> => {
    const via = `${peerHost(peer)}:${peer.clientPort}`;
    try {
      await fetch(via);
      return { kind: 'accepted', value: via };
    } catch (error) {
      if (!(error instanceof JoinError)) throw error;
      if (error.reason === 'foreign-ca') return { kind: 'refused', why: error.message };
      // The member's certificate is from the token's CA, so the cluster is right and the secret wrong: no member will take it.
      if (error.reason === 'bad-proof') throw new UsageError(`--token: ${error.message}. The token's CA is this cluster's but its secret is not: copy the token again (\`bramble token\` on a member prints it)`);
      return { kind: 'retry', why: error.message };
    }
  }, f.memberSearchMs);
  logger.info({ via: found.value, member: found.via.nodeName, searchMs: Date.now() - startedMs }, 'received this node\'s credentials from a member found by mDNS: joining it as a learner');
  // The admitting member first; the others too, in case it goes away before it adds this node.
  const others = discovery.members().map((peer) => `${peerHost(peer)}:${peer.clientPort}`).filter((via) => via !== found.value);
  return { kind: 'join', via: [found.value, ...others] };
}

export function startAutopilot<R>(f: FormationOptions, node: RaftNode<R>, tickIntervalMs: number, electionTimeoutTicks: number, logger: Logger): Autopilot {
  const electionMs = tickIntervalMs * electionTimeoutTicks;
  const autopilot = new Autopilot(
    node,
    {
      voters: f.voters,
      stableMs: f.autopilotStableMs,
      deadAfterMs: f.autopilotDeadMs,
      // Never before it counts as dead.
      removeDeadLearnersAfterMs: f.autopilotRemoveDeadMs === 0 ? 0 : Math.max(f.autopilotRemoveDeadMs, f.autopilotDeadMs),
      // Followers answer every heartbeat; silence for an election timeout is already unhealthy.
      healthyContactMs: Math.max(electionMs, 4 * tickIntervalMs),
      maxTrailingEntries: 1_000,
      intervalMs: Math.max(tickIntervalMs * 5, 100),
    },
    logger.child({ component: 'autopilot' }),
  );
  autopilot.start();
  return autopilot;
}
