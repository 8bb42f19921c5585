import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { LevelStorage } from '../raftnode/level-storage.ts';
import { bootstrapSnapshotData, RaftNode } from '../raftnode/node.ts';
import { TcpTransport } from '../raftnode/transport/index.ts';
import { createJoinHandler } from '../identity/join.ts';
import { peerTls, storeClientTls, storeServerTls, verifyPeerIdentity } from '../identity/tls.ts';
import { StoreClient } from '../store/client.ts';
import { StoreServer } from '../store/http-server.ts';
import { snapshotFetcher } from '../store/snapshot-fetch.ts';
import type { StoreClientTls } from '../store/wire.ts';
import { type ApplyResult, MvccStore } from '../store/index.ts';
import { ReplicatedStore } from '../store/replicated-store.ts';
import { startCompactor } from '../store/compactor.ts';
import { startApi, type RunningApi } from '../api/start.ts';
import { apiFeeds } from '../client/cache/index.ts';
import { startAgent, type RunningAgent } from '../agent/agent.ts';
import { agentPodStreams } from '../agent/pod-streams.ts';
import { InProcessClient } from '../client/index.ts';
import { ControlManager, defaultControllers } from '../control/index.ts';
import { isBundle } from '../identity/bundle.ts';
import { parseJoinToken } from '../identity/token.ts';
import type { Autopilot } from '../discovery/autopilot.ts';
import { checkDataDir } from './datadir-check.ts';
import { prepareFormationIdentity, startAutopilot, startFormation } from './formation.ts';
import { type NodeIdentity, nodeBundleDir, prepareIdentity, removeFetchedIdentity } from './identity.ts';
import { formatHostPort, type NodeOptions } from './options.ts';

export interface RunningNode {
  stop(): Promise<void>;
}

/** How this start relates to the data dir: a new cluster, joining one, or resuming. */
type StartMode = { kind: 'bootstrap'; members: Record<string, string> } | { kind: 'join'; via: string[] } | { kind: 'resume' };

function startMode(options: NodeOptions, raftDir: string, logger: Logger): StartMode {
  if (existsSync(raftDir)) {
    if (options.initialCluster || options.join) logger.info('the data dir already holds this node\'s Raft log: --initial-cluster and --join are ignored, membership comes from the log');
    return { kind: 'resume' };
  }
  if (options.join) return { kind: 'join', via: [formatHostPort(options.join)] };
  const cluster = options.initialCluster ?? { [options.name]: options.peerAddress };
  return { kind: 'bootstrap', members: Object.fromEntries(Object.entries(cluster).map(([name, address]) => [name, formatHostPort(address)])) };
}

/**
 * Runs a node until SIGINT/SIGTERM: the Raft log and the MVCC store in the data dir, the peer
 * transport, the Raft driver, and the store's client API.
 */
export async function startNode(options: NodeOptions, logger: Logger): Promise<RunningNode> {
  mkdirSync(options.dataDir, { recursive: true });
  await checkDataDir(options.dataDir);
  const raftDir = join(options.dataDir, 'raft');
  const storeDir = join(options.dataDir, 'store');
  // --bootstrap-expect: the cluster bundle comes first (its cluster id is what discovery announces),
  // then formation decides, for a new data dir, whether this node bootstraps or joins. A new board
  // with only the token knows the cluster id from the token and fetches the bundle from a member.
  const resuming = existsSync(raftDir);
  const tokenEntry = options.formation !== null && options.token !== null && !resuming;
  const formationIdentity = options.formation && !tokenEntry ? await prepareFormationIdentity(options, raftDir, logger) : undefined;
  const clusterId = tokenEntry ? parseJoinToken(options.token!).clusterId : (formationIdentity?.bundle.clusterId ?? null);
  const fetchedBefore = isBundle(nodeBundleDir(options.dataDir));
  const formation = options.formation
    ? await startFormation(
        options.formation,
        { name: options.name, dataDir: options.dataDir, clusterId, peerAddress: options.peerAddress, clientPort: options.clientAddress.port, apiPort: options.apiAddress?.port ?? 0, version: options.version, joinHosts: options.join ? [options.join.host] : [], resuming },
        logger,
        tokenEntry ? { options } : undefined,
      )
    : null;
  const mode: StartMode = formation?.outcome ?? startMode(options, raftDir, logger);
  let identity: NodeIdentity | null;
  if (formationIdentity !== undefined) identity = formationIdentity;
  else if (tokenEntry) {
    // The bundle is in the data dir now; prepareIdentity checks it against the token again.
    const fetched = await prepareIdentity(options, { kind: 'resume', bootstrapMembers: 0 }, logger);
    identity = fetched && { ...fetched, fetchedWithToken: !fetchedBefore };
  } else identity = await prepareIdentity(options, { kind: mode.kind, bootstrapMembers: mode.kind === 'bootstrap' ? Object.keys(mode.members).length : 0 }, logger);
  let autopilot: Autopilot | undefined;
  const leaderWatch: { timer?: NodeJS.Timeout } = {};
  const voters = mode.kind === 'bootstrap' ? Object.keys(mode.members) : [];
  const membersFile = join(options.dataDir, 'members.json');
  const knownMembers = mode.kind === 'bootstrap' ? mode.members : readMembers(membersFile);
  const storage = await LevelStorage.open(raftDir, { voters, learners: [] }, mode.kind === 'bootstrap' ? bootstrapSnapshotData(mode.members) : undefined);
  const mvcc = await MvccStore.open(storeDir);
  const peerAddress = formatHostPort(options.peerAddress);
  const transport = new TcpTransport({ id: options.name, listenAddress: peerAddress, logger, ...(identity ? { clusterId: identity.credentials.clusterId, tls: peerTls(identity.credentials), verifyPeer: verifyPeerIdentity } : {}) });
  const clientTls = identity ? storeClientTls(identity.credentials) : undefined;
  let stopping: Promise<void> | undefined;
  const node: RaftNode<ApplyResult> = new RaftNode<ApplyResult>({
    id: options.name,
    storage,
    stateMachine: mvcc.stateMachine(),
    transport,
    logger,
    tickIntervalMs: options.tickIntervalMs,
    electionTimeoutTicks: options.electionTimeoutTicks,
    heartbeatIntervalTicks: options.heartbeatIntervalTicks,
    snapshotEveryEntries: options.snapshotEveryEntries,
    entriesKeptAfterSnapshot: Math.ceil(options.snapshotEveryEntries / 2),
    initialMembers: knownMembers,
    promoteLearners: !options.formation,
    onMembersChanged: (members) => writeMembers(membersFile, members),
    snapshotTransfer: {
      inlineMaxBytes: options.snapshotInlineMaxBytes,
      sourceAddress: formatHostPort(options.clientAddress),
      fetch: snapshotFetcher({ partDir: join(options.dataDir, 'incoming-snapshot'), logger, tls: clientTls }),
    },
    onFatal: () => {
      void running.stop().finally(() => process.exit(1));
    },
  });
  transport.setHandlers({
    onMessages: (messages) => node.receive(messages),
    reportUnreachable: (peer) => node.reportUnreachable(peer),
    reportSnapshot: (peer, ok) => node.reportSnapshot(peer, ok),
  });
  const store = new ReplicatedStore(node, mvcc);
  // Subscribed before the node starts, so the first leadership is seen.
  const compactor = startCompactor({ store, intervalMs: options.compactIntervalMs, logger: logger.child({ component: 'compactor' }) });
  const server = new StoreServer({
    ...(identity ? { tls: storeServerTls(identity.credentials), join: createJoinHandler({ bundle: identity.bundle, logger }) } : {}),
    store,
    logger,
    host: options.clientAddress.host,
    port: options.clientAddress.port,
    describe: () => ({ name: options.name, version: options.version, peerAddress, clientAddress: formatHostPort(options.clientAddress), ...(autopilot ? { autopilot: autopilot.report() } : {}) }),
  });
  const api: { starting?: Promise<RunningApi>; agent?: Promise<RunningAgent | undefined>; control?: ControlManager } = {};
  const running: RunningNode = {
    stop: () =>
      (stopping ??= (async () => {
        api.control?.stop();
        compactor.stop();
        clearInterval(leaderWatch.timer);
        autopilot?.stop();
        await formation?.discovery.stop();
        await (await api.agent)?.stop();
        await (await api.starting?.catch(() => undefined))?.stop();
        await server.stop();
        await node.stop();
        await transport.stop();
        await mvcc.close();
        await storage.close();
        logger.info('stopped');
      })()),
  };

  writeMembers(membersFile, { ...knownMembers, [options.name]: peerAddress });
  try {
    await transport.start();
    await node.start();
    await server.start();
    if (mode.kind === 'bootstrap' && voters.length === 1) node.campaign();
    // Formation decides to join as soon as a member announces itself, maybe before it has a leader: keep trying a while.
    if (mode.kind === 'join') await joinCluster(node, mode.via, options.name, peerAddress, logger, formation ? 120_000 : 0, clientTls);
  } catch (error) {
    await running.stop().catch(() => undefined);
    // A join that never happened leaves an empty log that could not start again: remove it.
    if (mode.kind === 'join') {
      // The log last: a store without a log is refused at the next start (see datadir-check.ts).
      rmSync(membersFile, { force: true });
      rmSync(storeDir, { recursive: true, force: true });
      rmSync(raftDir, { recursive: true, force: true });
      if (identity?.fetchedWithToken) removeFetchedIdentity(options.dataDir);
    }
    throw error;
  }
  logger.info({ mode: mode.kind, clusterId: identity?.bundle.clusterId ?? null, peerAddress, clientAddress: formatHostPort(options.clientAddress), dataDir: options.dataDir }, 'bramble node ready');
  if (formation && options.formation) {
    formation.discovery.markMember();
    autopilot = startAutopilot(options.formation, node, options.tickIntervalMs, options.electionTimeoutTicks, logger);
  }
  leaderWatch.timer = watchForLeader(node, options.tickIntervalMs * options.electionTimeoutTicks, logger);
  // The API needs a leader for its first-start objects, so it comes up beside the node rather than
  // before it; a node whose API port is taken still serves the store (and says how to fix it).
  const apiAddress = options.apiAddress;
  if (apiAddress === null) return running;
  // Its first-start writes can time out during an election (a restarted board rejoining): try again.
  const startApiRetrying = async (attempt = 1): Promise<RunningApi> => {
    try {
      return await startApi({ dataDir: options.dataDir, store, host: apiAddress.host, port: apiAddress.port, nodeName: options.name, gitVersion: `v${options.version}`, feeds: apiFeeds(logger.child({ component: 'api' })) });
    } catch (error) {
      if (stopping || attempt >= 5 || (error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw error;
      logger.warn({ err: error, attempt }, 'kubernetes API not started yet; retrying');
      await new Promise((r) => setTimeout(r, 1000 * attempt));
      return startApiRetrying(attempt + 1);
    }
  };
  api.starting = startApiRetrying();
  api.starting.then(
    (started) => {
      logger.info({ api: started.url, kubeconfig: started.kubeconfigPath }, 'kubernetes API ready');
      // The scheduler and controllers run only while this node leads, their writes fenced by its term.
      api.control = new ControlManager({
        leadership: node,
        nodeName: options.name,
        connect: (term) => InProcessClient.fenced(started.registry, term, options.name),
        controllers: defaultControllers(),
        logger,
        config: { nodeGraceMs: options.nodeGraceMs },
      });
      if (!stopping) api.control.start();
      process.stderr.write(`Kubernetes API: ${started.url}\nkubeconfig:     ${started.kubeconfigPath}\n  kubectl --kubeconfig ${started.kubeconfigPath} get nodes\n`);
      if (stopping) return;
      api.agent = startAgent({
        client: new InProcessClient(started.registry),
        nodeName: options.name,
        dataDir: resolve(options.dataDir),
        hostRoot: options.hostRoot,
        runtime: options.runtime,
        internalIP: internalAddress(apiAddress.host),
        apiPort: apiAddress.port,
        nodeStatusIntervalMs: options.nodeStatusIntervalMs,
        // Samples live in memory only; a fast status check (tests) samples as often, within reason.
        metricsIntervalMs: Math.min(10_000, Math.max(1000, options.nodeStatusIntervalMs)),
        logger: logger.child({ component: 'agent' }),
      }).then(
        (agent) => {
          started.setPodStreams(agentPodStreams(() => agent.runtime(), options.name));
          started.setMetrics(agent.metrics);
          return agent;
        },
        (error: unknown) => {
          logger.error({ err: error }, 'the node agent did not start: this node runs no pods');
          return undefined;
        },
      );
    },
    (error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === 'EADDRINUSE' ? ` (${formatHostPort(apiAddress)} is taken: choose another with --api-addr or BRAMBLE_API_ADDR)` : '';
      logger.error({ err: error }, `kubernetes API did not start${hint}`);
    },
  );
  return running;
}

/**
 * Says so, once per stretch, when this node has known no leader for 20 election timeouts: it
 * cannot reach a quorum of voters, or it was removed from the cluster (a removed board that comes
 * back with its old data dir is not told; it just never hears a leader again).
 */
function watchForLeader(node: RaftNode<ApplyResult>, electionMs: number, logger: Logger): NodeJS.Timeout {
  const quietMs = 20 * electionMs;
  let leaderlessSinceMs: number | null = null;
  let warned = false;
  const timer = setInterval(() => {
    if (node.status().leader !== null) {
      leaderlessSinceMs = null;
      warned = false;
      return;
    }
    leaderlessSinceMs ??= Date.now();
    if (warned || Date.now() - leaderlessSinceMs < quietMs) return;
    warned = true;
    logger.warn(
      { leaderlessMs: Date.now() - leaderlessSinceMs },
      'no leader for a while: this node cannot reach a quorum of the voters, or it was removed from the cluster (`bramble cluster remove`). Check `bramble cluster status --endpoints <a member>:7379` from another board: if this node is not listed, it is no longer a member; stop it and start it with an empty data dir and the join token',
    );
  }, Math.max(electionMs, 100));
  timer.unref();
  return timer;
}

/** The address other nodes reach this one at: the API's own, or the first external IPv4 when it listens on all. */
function internalAddress(apiHost: string): string {
  if (apiHost !== '0.0.0.0' && apiHost !== '::') return apiHost;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external) return external.address;
  }
  return '127.0.0.1';
}

/** The peer addresses this node knows, kept beside the log (see RaftNodeOptions.onMembersChanged). */
function readMembers(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new Error(`${file} is damaged (${(error as Error).message}); it lists where the other members listen. Restore it, or move the data dir aside and start this node with an empty --data-dir and --join <client address of a member> under a new --name.`);
  }
}

function writeMembers(file: string, members: Record<string, string>): void {
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(members, null, 2)}\n`);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, file);
}

async function joinCluster(node: RaftNode<ApplyResult>, via: string[], name: string, peerAddress: string, logger: Logger, retryForMs: number, tls: StoreClientTls | undefined): Promise<void> {
  const deadline = Date.now() + retryForMs;
  for (let attempt = 0; ; attempt++) {
    const endpoint = via[attempt % via.length]!;
    const client = new StoreClient({ endpoints: [endpoint], timeoutMs: 15_000, tls });
    try {
      logger.info({ via: endpoint }, 'asking the cluster to add this node as a learner');
      const answer = await client.join<{ members: Record<string, string> }>(name, peerAddress);
      for (const [id, address] of Object.entries(answer.members)) if (id !== name) node.addKnownPeer(id, address);
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw new Error(`could not join the cluster through ${endpoint}: ${(error as Error).message}`);
      logger.info({ via: endpoint, err: (error as Error).message }, 'join not accepted yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      client.close();
    }
  }
}
