import { formatHostPort, type HostPort, parseHostPort as parseAddress } from '../raftnode/transport/index.ts';
import { parseJoinToken } from '../identity/token.ts';
import { UsageError } from './output.ts';
import { DEFAULT_CLUSTER_CIDR, parseClusterCidr } from '../control/index.ts';
import { type FormationFlags, parseFormationOptions } from './up-formation.ts';
import type { NodeOptions } from '../node/options.ts';
import { DEFAULT_FAIRNESS, type FairnessOptions } from '../api/fairness.ts';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr } from '../api/service-alloc.ts';
import { ipv4Network } from '../api/resources/index.ts';

export { formatHostPort, type HostPort };

/** `bramble up`'s flags, checked: what the node is started with, plus what only the CLI uses. */
export interface UpOptions extends Omit<NodeOptions, 'version'> {
  logLevel: string;
}

export interface RawUpFlags extends FormationFlags {
  name?: string;
  dataDir?: string;
  peerAddr?: string;
  clientAddr?: string;
  apiAddr?: string;
  tickMs?: string;
  electionTicks?: string;
  heartbeatTicks?: string;
  snapshotEntries?: string;
  snapshotInlineBytes?: string;
  logLevel?: string;
  runtime?: string;
  hostRoot?: string;
  nodeStatusMs?: string;
  nodeGraceMs?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  podNetwork?: string;
  compactIntervalMs?: string;
  apiUserQps?: string;
  apiUserBurst?: string;
  apiUserMaxInflight?: string;
}

export const defaultPeerPort = 7380;
export const defaultApiPort = 6443;

const RAW_FLAG_NAMES: readonly (keyof RawUpFlags)[] = ['name', 'dataDir', 'peerAddr', 'clientAddr', 'apiAddr', 'initialCluster', 'join', 'tickMs', 'electionTicks', 'heartbeatTicks', 'snapshotEntries', 'snapshotInlineBytes', 'logLevel', 'runtime', 'hostRoot', 'nodeStatusMs', 'nodeGraceMs', 'clusterCidr', 'serviceCidr', 'podNetwork', 'compactIntervalMs', 'bootstrapExpect', 'bootstrapSettleMs', 'mdnsIntervalMs', 'voters', 'autopilotStableMs', 'autopilotDeadMs', 'memberSearchMs', 'autopilotRemoveDeadMs', 'apiUserQps', 'apiUserBurst', 'apiUserMaxInflight'];
const IDENTITY_FLAG_NAMES: readonly (keyof RawUpFlags)[] = ['bundle', 'token'];

/** Every `bramble up` flag may come from BRAMBLE_<FLAG> (systemd units, first-boot files); a flag on the command line wins. */
export function withEnvFlags(flags: RawUpFlags, env: NodeJS.ProcessEnv): RawUpFlags {
  const merged: RawUpFlags = { ...flags };
  for (const key of [...RAW_FLAG_NAMES, ...IDENTITY_FLAG_NAMES]) {
    const value = env[`BRAMBLE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    if (merged[key] === undefined && value !== undefined && value !== '') merged[key] = value;
  }
  return merged;
}
export const defaultClientPort = 7379;
const dns1123Label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The transport's host:port grammar, with a UsageError naming the flag instead of null. */
export function parseHostPort(text: string, flag: string): HostPort {
  const trimmed = text.trim();
  const address = /\s/.test(trimmed) ? null : parseAddress(trimmed);
  if (!address) {
    throw new UsageError(`${flag} "${text}" is not host:port (for example 192.168.1.20:${defaultPeerPort} or [fe80::1]:${defaultPeerPort})`);
  }
  return address;
}

function positiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a positive whole number, got "${text}"`);
  return value;
}

function positiveNumber(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  return value;
}

/** The API's per-user limits: the three flags over DEFAULT_FAIRNESS (the nodes' and the admin's allowance is fixed). */
function parseApiFairness(flags: RawUpFlags): FairnessOptions {
  const { user } = DEFAULT_FAIRNESS;
  return {
    ...DEFAULT_FAIRNESS,
    user: {
      qps: positiveNumber(flags.apiUserQps, '--api-user-qps', user.qps),
      burst: positiveInteger(flags.apiUserBurst, '--api-user-burst', user.burst),
      maxInflight: positiveInteger(flags.apiUserMaxInflight, '--api-user-max-inflight', user.maxInflight),
    },
  };
}

function checkName(name: string, what: string): void {
  if (!dns1123Label.test(name)) {
    throw new UsageError(`${what} "${name}" is not a valid node name: use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`);
  }
}

/** Validates `bramble up` flags into a node configuration; every mistake is a UsageError that says what to do. */
/** The cluster CIDR, normalised, or a usage error that says what is wrong with it. */
function checkClusterCidr(text: string): string {
  try {
    return parseClusterCidr(text).text;
  } catch (error) {
    throw new UsageError(`--cluster-cidr: ${(error as Error).message}`);
  }
}

/** The service CIDR, normalised, or a usage error; it may not overlap the pods' range (a packet could not tell them apart). */
function checkServiceCidr(text: string, clusterCidr: string): string {
  let range;
  try {
    range = parseServiceCidr(text);
  } catch (error) {
    throw new UsageError(`--service-cidr: ${(error as Error).message}`);
  }
  const pods = parseClusterCidr(clusterCidr);
  const shorter = Math.min(range.prefix, pods.prefix);
  if (ipv4Network(range.base, shorter) === ipv4Network(pods.base, shorter)) {
    throw new UsageError(`--service-cidr: ${range.text} overlaps the cluster CIDR ${pods.text} (the pods' addresses): choose a range apart from it, e.g. ${DEFAULT_SERVICE_CIDR}`);
  }
  return range.text;
}

export function parseUpOptions(flags: RawUpFlags, defaults: { hostname: string }): UpOptions {
  const name = flags.name ?? defaults.hostname.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  checkName(name, '--name');
  const peerAddress = parseHostPort(flags.peerAddr ?? `127.0.0.1:${defaultPeerPort}`, '--peer-addr');
  const clientAddress = parseHostPort(flags.clientAddr ?? `127.0.0.1:${defaultClientPort}`, '--client-addr');
  const apiAddress = flags.apiAddr === 'off' ? null : parseHostPort(flags.apiAddr ?? `127.0.0.1:${defaultApiPort}`, '--api-addr');
  if (flags.initialCluster !== undefined && flags.join !== undefined) {
    throw new UsageError('--initial-cluster and --join exclude each other: bootstrap a new cluster with the first, or join a running one with the second');
  }
  let initialCluster: Record<string, HostPort> | null = null;
  if (flags.initialCluster !== undefined) {
    initialCluster = {};
    for (const part of flags.initialCluster.split(',').map((item) => item.trim()).filter(Boolean)) {
      const separator = part.indexOf('=');
      if (separator <= 0) throw new UsageError(`--initial-cluster entry "${part}" is not name=host:port`);
      const member = part.slice(0, separator);
      checkName(member, '--initial-cluster member');
      if (member in initialCluster) throw new UsageError(`--initial-cluster names "${member}" twice`);
      initialCluster[member] = parseHostPort(part.slice(separator + 1), `--initial-cluster entry for ${member}`);
    }
    if (!(name in initialCluster)) {
      throw new UsageError(`--initial-cluster must include this node ("${name}"); it lists ${Object.keys(initialCluster).join(', ') || 'nobody'}`);
    }
    const own = initialCluster[name]!;
    if (own.port !== peerAddress.port || own.host !== peerAddress.host) {
      throw new UsageError(`--initial-cluster gives ${name} the address ${formatHostPort(own)} but --peer-addr is ${formatHostPort(peerAddress)}: they must be the same`);
    }
  }
  if (flags.bundle !== undefined && flags.token !== undefined) throw new UsageError('--bundle and --token exclude each other: a node with the bundle has everything the token would fetch');
  if (flags.token !== undefined) {
    try {
      parseJoinToken(flags.token);
    } catch (error) {
      throw new UsageError(`--token: ${(error as Error).message}`);
    }
    if (flags.initialCluster !== undefined) throw new UsageError('--token joins a running cluster, --initial-cluster starts a new one: to start one, use --bundle DIR on every first member');
  }
  const logLevel = flags.logLevel ?? 'info';
  if (!logLevels.includes(logLevel)) throw new UsageError(`--log-level must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  const runtime = flags.runtime ?? 'docker';
  if (runtime !== 'docker' && runtime !== 'none') throw new UsageError(`--runtime must be docker or none, got "${runtime}"`);
  // host-gw with Docker (the pod bridge is a Docker network); off without a runtime.
  const podNetwork = flags.podNetwork ?? (runtime === 'docker' ? 'host-gw' : 'off');
  if (podNetwork !== 'host-gw' && podNetwork !== 'off') throw new UsageError(`--pod-network must be host-gw or off, got "${podNetwork}"`);
  if (podNetwork === 'host-gw' && runtime !== 'docker') throw new UsageError('--pod-network host-gw needs --runtime docker: the pod bridge is a Docker network');
  const tickIntervalMs = positiveInteger(flags.tickMs, '--tick-ms', 100);
  const electionTimeoutTicks = positiveInteger(flags.electionTicks, '--election-ticks', 10);
  const heartbeatIntervalTicks = positiveInteger(flags.heartbeatTicks, '--heartbeat-ticks', 1);
  if (heartbeatIntervalTicks >= electionTimeoutTicks) {
    throw new UsageError(`--heartbeat-ticks (${heartbeatIntervalTicks}) must be smaller than --election-ticks (${electionTimeoutTicks})`);
  }
  return {
    name,
    dataDir: flags.dataDir ?? `.bramble/${name}`,
    peerAddress,
    clientAddress,
    apiAddress,
    initialCluster,
    join: flags.join !== undefined ? parseHostPort(flags.join, '--join') : null,
    bundle: flags.bundle ?? null,
    token: flags.token?.trim() ?? null,
    tickIntervalMs,
    electionTimeoutTicks,
    heartbeatIntervalTicks,
    snapshotEveryEntries: positiveInteger(flags.snapshotEntries, '--snapshot-entries', 10_000),
    snapshotInlineMaxBytes: positiveInteger(flags.snapshotInlineBytes, '--snapshot-inline-bytes', 1024 * 1024),
    logLevel,
    runtime,
    hostRoot: flags.hostRoot ?? '/',
    nodeStatusIntervalMs: positiveInteger(flags.nodeStatusMs, '--node-status-ms', 10_000),
    nodeGraceMs: positiveInteger(flags.nodeGraceMs, '--node-grace-ms', 4_000),
    clusterCidr: checkClusterCidr(flags.clusterCidr ?? DEFAULT_CLUSTER_CIDR),
    serviceCidr: checkServiceCidr(flags.serviceCidr ?? DEFAULT_SERVICE_CIDR, checkClusterCidr(flags.clusterCidr ?? DEFAULT_CLUSTER_CIDR)),
    podNetwork,
    compactIntervalMs: positiveInteger(flags.compactIntervalMs, '--compact-interval-ms', 300_000),
    formation: parseFormationOptions(flags),
    apiFairness: parseApiFairness(flags),
  };
}
