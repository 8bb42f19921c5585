// `bramble up`'s node, stage by stage. Each stage returns { stop } and the Stages runner stops
// them last first; adding a stage is one `stages.start(...)` line below: in startMember (up to
// the join), startAroundMember (once a member) or startServices (what needs the Kubernetes API).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Autopilot } from '../discovery/autopilot.ts';
import { isBundle } from '../identity/bundle.ts';
import { createJoinHandler } from '../identity/join.ts';
import { storeClientTls, storeServerTls } from '../identity/tls.ts';
import { parseJoinToken } from '../identity/token.ts';
import { InProcessClient } from '../client/index.ts';
import { ControlManager, defaultControllers } from '../control/index.ts';
import { startCompactor } from '../store/compactor.ts';
import { StoreServer } from '../store/http-server.ts';
import type { ReplicatedStore } from '../store/replicated-store.ts';
import type { RaftNode } from '../raftnode/node.ts';
import type { ApplyResult } from '../store/index.ts';
import { startAgentStage } from './agent.ts';
import { startApiStage } from './api.ts';
import { ClusterDnsSlot, PodBridgeSlot, startNetStage } from './net.ts';
import { checkDataDir } from './datadir-check.ts';
import { type FormationStart, prepareFormationIdentity, startAutopilot, startFormation } from './formation.ts';
import { waitForPlausibleClock } from './clock.ts';
import { type NodeIdentity, nodeBundleDir, prepareIdentity } from './identity.ts';
import { joinCluster, removeFailedJoin } from './join.ts';
import { watchForLeader } from './leader-watch.ts';
import { readMembers } from './members.ts';
import { formatHostPort, type HostPort, type NodeOptions } from './options.ts';
import { startRaft } from './raft.ts';
import { inBackground, Stages } from './stages.ts';
import { openStorage } from './storage.ts';

export interface RunningNode {
  /** Stops every stage, last first; calling it again returns the same promise. */
  stop(): Promise<void>;
}

/** How this start relates to the data dir: a new cluster, joining one, or resuming. */
type StartMode = { kind: 'bootstrap'; members: Record<string, string> } | { kind: 'join'; via: string[] } | { kind: 'resume' };

interface NodePaths {
  dataDir: string;
  raftDir: string;
  storeDir: string;
  membersFile: string;
}

function nodePaths(dataDir: string): NodePaths {
  return { dataDir, raftDir: join(dataDir, 'raft'), storeDir: join(dataDir, 'store'), membersFile: join(dataDir, 'members.json') };
}

function startMode(options: Pick<NodeOptions, 'name' | 'peerAddress' | 'initialCluster' | 'join'>, raftDir: string, logger: Logger): StartMode {
  if (existsSync(raftDir)) {
    if (options.initialCluster || options.join) logger.info('the data dir already holds this node\'s Raft log: --initial-cluster and --join are ignored, membership comes from the log');
    return { kind: 'resume' };
  }
  if (options.join) return { kind: 'join', via: [formatHostPort(options.join)] };
  const cluster = options.initialCluster ?? { [options.name]: options.peerAddress };
  return { kind: 'bootstrap', members: Object.fromEntries(Object.entries(cluster).map(([name, address]) => [name, formatHostPort(address)])) };
}

/**
 * Runs a node: the Raft log and the MVCC store in the data dir, the peer transport, the Raft
 * driver, the store's client port, and beside them the Kubernetes API, control and the agent.
 */
export async function startNode(options: NodeOptions, logger: Logger): Promise<RunningNode> {
  const paths = nodePaths(options.dataDir);
  mkdirSync(options.dataDir, { recursive: true });
  await checkDataDir(options.dataDir);
  const stages = new Stages(logger);
  let stopped: Promise<void> | undefined;
  const running: RunningNode = { stop: () => (stopped ??= stages.stop().then(() => logger.info('stopped'))) };
  try {
    const entry = await enterCluster(options, paths, stages, logger);
    const onFatal = () => void running.stop().finally(() => process.exit(1));
    const member = await startMember(options, paths, entry, stages, onFatal, logger).catch(async (error: unknown) => {
      // A join that never happened leaves an empty log that could not start again.
      await running.stop().catch(() => undefined);
      if (entry.mode.kind === 'join') removeFailedJoin(paths, entry.identity?.fetchedWithToken ?? false);
      throw error;
    });
    await startAroundMember(options, entry, member, stages, logger);
  } catch (error) {
    await running.stop().catch(() => undefined);
    throw error;
  }
  return running;
}

interface Entry {
  mode: StartMode;
  /** Null for a data dir from before bundles. */
  identity: NodeIdentity | null;
  formation: FormationStart | null;
}

/**
 * Settles which cluster this node belongs to and how it enters it. With formation the cluster
 * bundle comes first (its cluster id is what discovery announces), then formation decides, for a
 * new data dir, whether this node bootstraps or joins. A new board with only the token knows the
 * cluster id from the token and fetches the bundle from a member.
 */
async function enterCluster(options: NodeOptions, paths: NodePaths, stages: Stages, logger: Logger): Promise<Entry> {
  // Before any TLS: a board without a real-time clock may not have its time yet.
  await waitForPlausibleClock(logger);
  const resuming = existsSync(paths.raftDir);
  const tokenEntry = options.formation !== null && options.token !== null && !resuming;
  const formationIdentity = options.formation && !tokenEntry ? await prepareFormationIdentity(options, paths.raftDir, logger) : undefined;
  const clusterId = tokenEntry ? parseJoinToken(options.token!).clusterId : (formationIdentity?.bundle.clusterId ?? null);
  const fetchedBefore = isBundle(nodeBundleDir(options.dataDir));
  const f = options.formation;
  const formation = f
    ? await stages.start('discovery', async () => {
        const started = await startFormation(
          f,
          { name: options.name, dataDir: options.dataDir, clusterId, peerAddress: options.peerAddress, clientPort: options.clientAddress.port, apiPort: options.apiAddress?.port ?? 0, version: options.version, joinHosts: options.join ? [options.join.host] : [], resuming },
          logger,
          tokenEntry ? { options } : undefined,
        );
        return { ...started, stop: () => started.discovery.stop() };
      })
    : null;
  const mode: StartMode = formation?.outcome ?? startMode(options, paths.raftDir, logger);
  if (formationIdentity !== undefined) return { mode, identity: formationIdentity, formation };
  if (tokenEntry) {
    // The bundle is in the data dir now; prepareIdentity checks it against the token again.
    const fetched = await prepareIdentity(options, { kind: 'resume', bootstrapMembers: 0 }, logger);
    return { mode, identity: fetched && { ...fetched, fetchedWithToken: !fetchedBefore }, formation };
  }
  const identity = await prepareIdentity(options, { kind: mode.kind, bootstrapMembers: mode.kind === 'bootstrap' ? Object.keys(mode.members).length : 0 }, logger);
  return { mode, identity, formation };
}

/** What the stages after the join work with. */
interface Member {
  node: RaftNode<ApplyResult>;
  store: ReplicatedStore;
  /** Autopilot's report for the client port's /v1/status, once it runs. */
  status: { autopilot?: Autopilot };
}

/** The stages up to this node being a member (bootstrapped, joined or resumed), in start order (they stop in reverse). */
async function startMember(options: NodeOptions, paths: NodePaths, entry: Entry, stages: Stages, onFatal: () => void, logger: Logger): Promise<Member> {
  const { mode, identity, formation } = entry;
  const credentials = identity?.credentials ?? null;
  const clientTls = credentials ? storeClientTls(credentials) : undefined;
  const peerAddress = formatHostPort(options.peerAddress);
  // Read before the log is opened: a damaged members.json must leave every file as it was.
  const knownMembers = mode.kind === 'bootstrap' ? mode.members : readMembers(paths.membersFile);
  const storage = await stages.start('storage', () => openStorage(paths, mode.kind === 'bootstrap' ? mode.members : null));
  const { node, store } = await stages.start('raft', () => startRaft(options, { storage, credentials, clientTls, knownMembers, membersFile: paths.membersFile, onFatal, logger }));
  await stages.start('compactor', () => startCompactor({ store, intervalMs: options.compactIntervalMs, logger: logger.child({ component: 'compactor' }) }));
  const status: Member['status'] = {};
  await stages.start('store server', async () => {
    const server = new StoreServer({
      ...(identity ? { tls: storeServerTls(identity.credentials), join: createJoinHandler({ bundle: identity.bundle, logger }) } : {}),
      store,
      logger,
      host: options.clientAddress.host,
      port: options.clientAddress.port,
      describe: () => ({ name: options.name, version: options.version, peerAddress, clientAddress: formatHostPort(options.clientAddress), ...(status.autopilot ? { autopilot: status.autopilot.report() } : {}) }),
    });
    await server.start();
    return server;
  });
  if (mode.kind === 'bootstrap' && Object.keys(mode.members).length === 1) node.campaign();
  // Formation decides to join as soon as a member announces itself, maybe before it has a leader: keep trying a while.
  if (mode.kind === 'join') await joinCluster(node, mode.via, options.name, peerAddress, logger, formation ? 120_000 : 0, clientTls);
  logger.info({ mode: mode.kind, clusterId: identity?.bundle.clusterId ?? null, peerAddress, clientAddress: formatHostPort(options.clientAddress), dataDir: options.dataDir }, 'bramble node ready');
  return { node, store, status };
}

/** The stages of a node that is a member, in start order (they stop in reverse). */
async function startAroundMember(options: NodeOptions, entry: Entry, member: Member, stages: Stages, logger: Logger): Promise<void> {
  const { node, store } = member;
  if (entry.formation && options.formation) {
    const f = options.formation;
    entry.formation.discovery.markMember();
    member.status.autopilot = await stages.start('autopilot', () => startAutopilot(f, node, options.tickIntervalMs, options.electionTimeoutTicks, logger));
  }
  await stages.start('leader watch', () => watchForLeader(node, options.tickIntervalMs * options.electionTimeoutTicks, logger));
  // A node whose API port is taken still serves the store (and says how to fix it).
  const apiAddress = options.apiAddress;
  if (apiAddress !== null) await stages.start('services', () => inBackground('services', logger, (services) => startServices(options, apiAddress, store, node, services, logger)));
}

/** What needs the Kubernetes API, started beside the Raft node: the API's first writes need a leader. */
async function startServices(options: NodeOptions, apiAddress: HostPort, store: ReplicatedStore, node: RaftNode<ApplyResult>, stages: Stages, logger: Logger): Promise<void> {
  // startApiStage logs its own failure; the node goes on serving the store.
  const api = await stages.start('api', () => startApiStage({ ...options, apiAddress }, store, () => stages.stopping, logger)).catch(() => null);
  if (!api) return;
  // The scheduler and controllers run only while this node leads, their writes fenced by its term.
  await stages.start('control', () => {
    const control = new ControlManager({
      leadership: node,
      nodeName: options.name,
      connect: (term) => InProcessClient.fenced(api.registry, term, options.name),
      controllers: defaultControllers(),
      logger,
      config: { nodeGraceMs: options.nodeGraceMs, clusterCidr: options.clusterCidr },
    });
    control.start();
    return control;
  });
  process.stderr.write(`Kubernetes API: ${api.url}\nkubeconfig:     ${api.kubeconfigPath}\n  kubectl --kubeconfig ${api.kubeconfigPath} get nodes\n`);
  const slots = { bridge: new PodBridgeSlot(), dns: new ClusterDnsSlot() };
  const netSlots = options.podNetwork === 'host-gw' ? { podBridge: slots.bridge.get, clusterDns: slots.dns.get } : {};
  await stages.start('agent', () => startAgentStage({ ...options, apiAddress, members: () => node.status().members, ...netSlots }, api, logger));
  if (options.podNetwork === 'host-gw') await stages.start('net', () => startNetStage(options, api, slots, logger));
}
