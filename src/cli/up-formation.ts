import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Autopilot } from '../discovery/autopilot.ts';
import { type FormationOutcome, NodeDiscovery } from '../discovery/node-discovery.ts';
import { maxBootstrapExpect } from '../discovery/records.ts';
import type { RaftNode } from '../raftnode/node.ts';
import { isBundle } from '../identity/bundle.ts';
import { UsageError } from './output.ts';
import { type NodeIdentity, nodeBundleDir, prepareIdentity } from './up-bundle.ts';
import type { HostPort, RawUpFlags, UpOptions } from './up-options.ts';

/** `bramble up --bootstrap-expect N` and its tuning flags (zero-config formation, src/discovery). */
export interface FormationOptions {
  bootstrapExpect: number;
  settleMs: number;
  mdnsIntervalMs: number;
  /** Autopilot's target of voters; 0 = automatic (3, or 5 with five healthy members). */
  voters: number;
  autopilotStableMs: number;
  autopilotDeadMs: number;
}

export type FormationFlags = Pick<RawUpFlags, 'bootstrapExpect' | 'bootstrapSettleMs' | 'mdnsIntervalMs' | 'voters' | 'autopilotStableMs' | 'autopilotDeadMs'>;

function whole(text: string | undefined, flag: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}, got "${text}"`);
  return value;
}

/** Null without --bootstrap-expect: then no mDNS at all (nothing leaves the machine unasked). */
export function parseFormationOptions(flags: FormationFlags & Pick<RawUpFlags, 'initialCluster'>): FormationOptions | null {
  const tuning = ['bootstrapSettleMs', 'mdnsIntervalMs', 'voters', 'autopilotStableMs', 'autopilotDeadMs'] as const;
  if (flags.bootstrapExpect === undefined) {
    const stray = tuning.find((key) => flags[key] !== undefined);
    if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} only applies with --bootstrap-expect N (zero-config formation)`);
    return null;
  }
  if (flags.initialCluster !== undefined) throw new UsageError('--bootstrap-expect and --initial-cluster exclude each other: let the boards find each other, or list them yourself');
  const voters = whole(flags.voters, '--voters', 0, 0, 9);
  return {
    bootstrapExpect: whole(flags.bootstrapExpect, '--bootstrap-expect', 3, 1, maxBootstrapExpect),
    settleMs: whole(flags.bootstrapSettleMs, '--bootstrap-settle-ms', 5_000, 0),
    mdnsIntervalMs: whole(flags.mdnsIntervalMs, '--mdns-interval-ms', 1_000, 50),
    voters,
    autopilotStableMs: whole(flags.autopilotStableMs, '--autopilot-stable-ms', 10_000, 0),
    autopilotDeadMs: whole(flags.autopilotDeadMs, '--autopilot-dead-ms', 30_000, 100),
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
  if (flags.bootstrapExpect === undefined || !lan) return flags;
  return { ...flags, peerAddr: flags.peerAddr ?? `${lan}:7380`, clientAddr: flags.clientAddr ?? `${lan}:7379`, apiAddr: flags.apiAddr ?? `${lan}:6443` };
}

/**
 * Formation needs the cluster bundle before anything else: its cluster id is what the boards
 * announce and match on, and every first voter must hold the same CA.
 */
export async function prepareFormationIdentity(options: UpOptions, raftDir: string, logger: Logger): Promise<NodeIdentity | null> {
  const resuming = existsSync(raftDir);
  if (!resuming && options.bundle === null && !isBundle(nodeBundleDir(options.dataDir))) {
    throw new UsageError('--bootstrap-expect needs the same cluster bundle on every board: create it once with `bramble cluster init --out DIR`, copy DIR to each board and start each with --bundle DIR');
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
    logger: logger.child({ component: 'discovery' }),
  });
  await discovery.start();
  if (node.resuming) {
    discovery.markMember();
    return { discovery, outcome: null };
  }
  logger.info({ expect: f.bootstrapExpect, clusterId: node.clusterId, nodeId: discovery.nodeId }, 'looking for the other boards (mDNS)');
  try {
    return { discovery, outcome: await discovery.form() };
  } catch (error) {
    await discovery.stop();
    throw error;
  }
}

export function startAutopilot<R>(f: FormationOptions, node: RaftNode<R>, tickIntervalMs: number, electionTimeoutTicks: number, logger: Logger): Autopilot {
  const electionMs = tickIntervalMs * electionTimeoutTicks;
  const autopilot = new Autopilot(
    node,
    {
      voters: f.voters,
      stableMs: f.autopilotStableMs,
      deadAfterMs: f.autopilotDeadMs,
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
