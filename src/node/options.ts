// What a node is started with, apart from how it was asked for: cli/ turns `bramble up`'s flags
// (and BRAMBLE_* variables) into a NodeOptions; tests and other programs may build one directly.
import { randomInt } from 'node:crypto';
import type { FairnessOptions } from '../api/fairness.ts';
import { formatHostPort, type HostPort } from '../raftnode/transport/index.ts';

export { formatHostPort, type HostPort };

export interface NodeOptions {
  name: string;
  /** This program's version: announced by discovery, described by the client port, the API's gitVersion. */
  version: string;
  dataDir: string;
  peerAddress: HostPort;
  clientAddress: HostPort;
  /** Where the Kubernetes API (HTTPS) listens; null for a store-only node (as in the store's tests). */
  apiAddress: HostPort | null;
  /** Static bootstrap membership (name -> peer address), or null when joining or restarting. */
  initialCluster: Record<string, HostPort> | null;
  /** Client address of any running member to ask for admission, or null. */
  join: HostPort | null;
  /** A cluster bundle directory (`bramble cluster init --out`), or null. */
  bundle: string | null;
  /** A join token (BRAMBLE-1-...), or null. */
  token: string | null;
  tickIntervalMs: number;
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  /** Applied entries between snapshots (after each, the log is compacted). */
  snapshotEveryEntries: number;
  /** Snapshots above this size are fetched by the follower over the client API, resumably. */
  snapshotInlineMaxBytes: number;
  /** The node agent's container runtime: "docker" runs pods, "none" a node without pods. */
  runtime: 'docker' | 'none';
  /** Root of the host files the agent reads (/proc, /sys, /etc): "/" on a board, a fake Pi tree in tests. */
  hostRoot: string;
  /** How often the agent reads node conditions (the Node is written only when one changes). */
  nodeStatusIntervalMs: number;
  /** The leader marks a node not heard from for this long unreachable and moves its pods. */
  nodeGraceMs: number;
  /** The range the leader cuts one /24 pod subnet per Node from (checked by parseClusterCidr). */
  clusterCidr: string;
  /** The range Services get their cluster IP from (checked by parseServiceCidr; absent: 10.43.0.0/16). */
  serviceCidr?: string;
  /** "host-gw": this board runs the pod network (src/net); "off" (default for now): pods on the engine's default bridge. */
  podNetwork: 'host-gw' | 'off';
  /** The leader compacts the store's history to the revision of one interval ago (watches resume from newer ones). */
  compactIntervalMs: number;
  /** The API's per-user limits (`--api-user-qps`, `--api-user-burst`, `--api-user-max-inflight`); absent: the defaults. */
  apiFairness?: FairnessOptions;
  /** Zero-config formation by mDNS (src/discovery); null without it. */
  formation: FormationOptions | null;
  /**
   * Seed of the Raft core's PRNG (its randomized election timeouts). Leave it out: each start then
   * draws a fresh one (electionSeed). Give one only to replay a run.
   */
  electionSeed?: number;
}

/**
 * The seed the Raft core is given: the one asked for, else a new one from the system's random
 * source. Never derived from the node's name: a seed that is the same at every start repeats the
 * same election timeouts after every restart, and boards restarted together would keep colliding.
 */
export function electionSeed(given?: number): number {
  return given ?? randomInt(0, 2 ** 32);
}

/** `bramble up --bootstrap-expect N` (or a lone --token) and its tuning (zero-config formation, src/discovery). */
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
