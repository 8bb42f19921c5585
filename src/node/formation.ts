// Zero-config formation (src/discovery) as `bramble up` runs it: the bundle first, then mDNS
// decides whether a new data dir bootstraps or joins; autopilot once the node is a member.
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { Autopilot } from '../discovery/autopilot.ts';
import { type FormationOutcome, type MemberAttempt, NodeDiscovery } from '../discovery/node-discovery.ts';
import { peerHost } from '../discovery/records.ts';
import type { RaftNode } from '../raftnode/node.ts';
import { formatHostPort } from '../raftnode/transport/index.ts';
import { isBundle } from '../identity/bundle.ts';
import { JoinError, joinWithToken, writeJoinedBundle } from '../identity/join.ts';
import { parseJoinToken } from '../identity/token.ts';
import { type IdentityOptions, type NodeIdentity, nodeBundleDir, nodeHosts, prepareIdentity } from './identity.ts';
import type { FormationOptions, HostPort } from './options.ts';
import { UsageError } from './usage-error.ts';

/**
 * Formation needs the cluster bundle before anything else: its cluster id is what the boards
 * announce and match on, and every first voter must hold the same CA.
 */
export async function prepareFormationIdentity(options: IdentityOptions, raftDir: string, logger: Logger): Promise<NodeIdentity | null> {
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
  tokenEntry?: { options: IdentityOptions },
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
async function enterWithToken(options: IdentityOptions, f: FormationOptions, discovery: NodeDiscovery, logger: Logger): Promise<FormationOutcome> {
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
