// Stage "raft": the peer transport (mutual TLS with the cluster's credentials), the Raft driver
// over the node's log and store, and the replicated store on top of it.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { peerTls, verifyPeerCertificate, verifyPeerIdentity, type ClusterCredentials } from '../identity/tls.ts';
import { RaftNode } from '../raftnode/node.ts';
import { TcpTransport } from '../raftnode/transport/index.ts';
import type { ApplyResult } from '../store/index.ts';
import { ReplicatedStore } from '../store/replicated-store.ts';
import { snapshotFetcher } from '../store/snapshot-fetch.ts';
import type { StoreClientTls } from '../store/wire.ts';
import { writeMembers } from './members.ts';
import { electionSeed, formatHostPort, type NodeOptions } from './options.ts';
import type { Stoppable } from './stages.ts';
import type { NodeStorage } from './storage.ts';

export type RaftOptions = Pick<NodeOptions, 'name' | 'dataDir' | 'peerAddress' | 'clientAddress' | 'tickIntervalMs' | 'electionTimeoutTicks' | 'heartbeatIntervalTicks' | 'snapshotEveryEntries' | 'snapshotInlineMaxBytes' | 'formation' | 'electionSeed'>;

export interface RaftDeps {
  storage: NodeStorage;
  /** Null for a data dir from before bundles: plain TCP between peers. */
  credentials: ClusterCredentials | null;
  clientTls: StoreClientTls | undefined;
  /** The peers this node knows at start (name -> peer address). */
  knownMembers: Record<string, string>;
  membersFile: string;
  /** Persisting failed: the node has stopped and the process must not go on. */
  onFatal: () => void;
  logger: Logger;
}

export interface RunningRaft extends Stoppable {
  node: RaftNode<ApplyResult>;
  store: ReplicatedStore;
  /** The Raft core's PRNG seed this start drew (or was given). */
  seed: number;
}

export async function startRaft(options: RaftOptions, deps: RaftDeps): Promise<RunningRaft> {
  const { storage, credentials, logger } = deps;
  const peerAddress = formatHostPort(options.peerAddress);
  const transport = new TcpTransport({ id: options.name, listenAddress: peerAddress, logger, ...(credentials ? { clusterId: credentials.clusterId, tls: peerTls(credentials), verifyPeer: verifyPeerIdentity, verifyCertificate: verifyPeerCertificate } : {}) });
  const seed = electionSeed(options.electionSeed);
  logger.debug({ seed }, 'raft election seed');
  const node = new RaftNode<ApplyResult>({
    id: options.name,
    seed,
    storage: storage.log,
    stateMachine: storage.mvcc.stateMachine(),
    transport,
    logger,
    tickIntervalMs: options.tickIntervalMs,
    electionTimeoutTicks: options.electionTimeoutTicks,
    heartbeatIntervalTicks: options.heartbeatIntervalTicks,
    snapshotEveryEntries: options.snapshotEveryEntries,
    entriesKeptAfterSnapshot: Math.ceil(options.snapshotEveryEntries / 2),
    initialMembers: deps.knownMembers,
    // With formation, autopilot decides who votes.
    promoteLearners: !options.formation,
    onMembersChanged: (members) => writeMembers(deps.membersFile, members),
    snapshotTransfer: {
      inlineMaxBytes: options.snapshotInlineMaxBytes,
      sourceAddress: formatHostPort(options.clientAddress),
      fetch: snapshotFetcher({ partDir: join(options.dataDir, 'incoming-snapshot'), logger, tls: deps.clientTls }),
    },
    onFatal: deps.onFatal,
  });
  transport.setHandlers({
    onMessages: (messages) => node.receive(messages),
    reportUnreachable: (peer) => node.reportUnreachable(peer),
    reportSnapshot: (peer, ok) => node.reportSnapshot(peer, ok),
  });
  const stop = async (): Promise<void> => {
    await node.stop();
    await transport.stop();
  };
  writeMembers(deps.membersFile, { ...deps.knownMembers, [options.name]: peerAddress });
  try {
    await transport.start();
    await node.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { node, store: new ReplicatedStore(node, storage.mvcc), seed, stop };
}
