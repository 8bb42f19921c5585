// Everything about a run that is drawn from its seed before it starts: Raft settings, network
// and disk behaviour, the workload and how hard the fault scheduler pushes. Varying these per
// seed (tiny append messages, one message in flight, no PreVote, ...) reaches code paths a
// single fixed configuration would never exercise.

import type { Prng, TestingMutations } from '../../src/raft/index.ts';
import type { DiskLatency } from './disk.ts';
import type { NetworkConditions } from './network.ts';
import type { RaftSettings } from './sim-node.ts';
import type { WorkloadSettings } from './workload.ts';

export const TICK_MS = 10;

export const FAULT_KINDS = [
  'crash',
  'crashLeader',
  'crashTrap',
  'isolate',
  'isolateLeader',
  'leaderChurn',
  'split',
  'oneWay',
  'leaderDeaf',
  'leaderMute',
  'lossy',
  'duplicating',
  'reordering',
  'slowDisk',
  'membership',
  'transfer',
  'compact',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultProfile {
  /** Chance per tick that a new fault starts. */
  faultChancePerTick: number;
  weights: Record<FaultKind, number>;
  /** This run may crash a majority of the voters (safety only is expected meanwhile). */
  allowMajorityDown: boolean;
}

export interface RunProfile {
  nodeCount: number;
  /** Extra nodes that start outside the cluster, with empty storage, for membership changes. */
  spareCount: number;
  raft: RaftSettings;
  network: NetworkConditions;
  disk: DiskLatency;
  workload: WorkloadSettings;
  faults: FaultProfile;
  /** A node snapshots and compacts once it applied this many entries past its snapshot. */
  snapshotEveryEntries: number;
  /** Entries kept before the snapshot index when compacting. */
  compactKeepEntries: number;
}

function pick<T>(prng: Prng, choices: readonly T[]): T {
  return choices[prng.nextInt(choices.length)]!;
}

function between(prng: Prng, min: number, max: number): number {
  return min + prng.nextFloat() * (max - min);
}

export function drawProfile(prng: Prng, nodeCount: number, testingMutations: TestingMutations): RunProfile {
  const electionTimeoutTicks = prng.nextFloat() < 0.7 ? 10 : 6 + prng.nextInt(10);
  const heartbeatIntervalTicks = prng.nextFloat() < 0.7 ? 1 : 1 + prng.nextInt(Math.min(3, electionTimeoutTicks - 1));
  const mode = prng.nextFloat();
  const raft: RaftSettings = {
    electionTimeoutTicks,
    heartbeatIntervalTicks,
    preVote: mode < 0.8 || mode >= 0.9,
    checkQuorum: mode < 0.7 || (mode >= 0.8 && mode < 0.9),
    // Tiny messages split the log into one-entry appends: acks that cover part of a term.
    maxSizePerMsgBytes: pick(prng, [64, 64, 512, 1024 * 1024]),
    maxInflightMsgs: pick(prng, [1, 4, 256]),
    testingMutations,
  };
  const maxDelayMs = 2 + prng.nextInt(15);
  const network: NetworkConditions = {
    dropRate: prng.nextFloat() < 0.3 ? 0 : between(prng, 0, 0.05),
    duplicateRate: prng.nextFloat() < 0.5 ? 0 : between(prng, 0, 0.04),
    minDelayMs: 1,
    maxDelayMs,
    longDelayRate: prng.nextFloat() < 0.5 ? 0 : between(prng, 0, 0.05),
    longDelayMaxMs: 30 + prng.nextInt(120),
  };
  const disk: DiskLatency = {
    fsyncMinMs: 1,
    fsyncMaxMs: 2 + prng.nextInt(6),
    slowFsyncMinMs: 20 + prng.nextInt(30),
    slowFsyncMaxMs: 80 + prng.nextInt(250),
  };
  const readShare = between(prng, 0.25, 0.5);
  const workload: WorkloadSettings = {
    clientCount: 2 + prng.nextInt(4),
    keys: ['a', 'b', 'c', 'd'].slice(0, 1 + prng.nextInt(3)),
    readShare,
    casShare: between(prng, 0.1, 0.3),
    leaderBias: between(prng, 0.3, 0.8),
    attemptTimeoutMs: (20 + prng.nextInt(40)) * 10,
    opDeadlineMs: (80 + prng.nextInt(120)) * 10,
    thinkMaxMs: 5 + prng.nextInt(40),
  };
  const weights = {} as Record<FaultKind, number>;
  for (const kind of FAULT_KINDS) weights[kind] = prng.nextFloat() < 0.15 ? 0 : 1 + prng.nextInt(4);
  // Every run exercises crashes and membership; the rest vary.
  weights.crash = Math.max(weights.crash, 2);
  weights.membership = Math.max(weights.membership, 2);
  const faults: FaultProfile = {
    faultChancePerTick: between(prng, 0.02, 0.08),
    weights,
    allowMajorityDown: prng.nextFloat() < 0.1,
  };
  return {
    nodeCount,
    spareCount: 1,
    raft,
    network,
    disk,
    workload,
    faults,
    snapshotEveryEntries: 5 + prng.nextInt(60),
    compactKeepEntries: prng.nextFloat() < 0.5 ? 0 : prng.nextInt(10),
  };
}
