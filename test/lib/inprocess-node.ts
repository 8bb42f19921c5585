// A real single-member Raft node in this process (LevelDB log and store, TCP transport) with the
// API's Registry over it: for tests of the code above the client (control loops) that need a
// real store but no HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadSecretCipher } from '../../src/api/encryption/index.ts';
import { Registry } from '../../src/api/registry.ts';
import { LevelStorage } from '../../src/raftnode/level-storage.ts';
import { bootstrapSnapshotData, RaftNode } from '../../src/raftnode/node.ts';
import { TcpTransport } from '../../src/raftnode/transport/index.ts';
import { MvccStore, type ApplyResult } from '../../src/store/index.ts';
import { ReplicatedStore } from '../../src/store/replicated-store.ts';
import { freePort } from './ports.ts';

export interface InProcessNode {
  node: RaftNode<ApplyResult>;
  /** The replicated store under the registry (compaction, raw reads). */
  store: ReplicatedStore;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startInProcessNode(id = 'solo'): Promise<InProcessNode> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-inprocess-'));
  const logger = pino({ level: 'silent' });
  const peer = `127.0.0.1:${await freePort()}`;
  const members = { [id]: peer };
  const storage = await LevelStorage.open(join(dir, 'raft'), { voters: [id], learners: [] }, bootstrapSnapshotData(members));
  const mvcc = await MvccStore.open(join(dir, 'store'));
  const transport = new TcpTransport({ id, listenAddress: peer, logger });
  const node = new RaftNode<ApplyResult>({ id, storage, stateMachine: mvcc.stateMachine(), transport, logger, tickIntervalMs: 20, electionTimeoutTicks: 10, initialMembers: members });
  transport.setHandlers({ onMessages: (m) => node.receive(m), reportUnreachable: (p) => node.reportUnreachable(p), reportSnapshot: (p, ok) => node.reportSnapshot(p, ok) });
  await transport.start();
  await node.start();
  node.campaign();
  const store = new ReplicatedStore(node, mvcc);
  const registry = new Registry(store, loadSecretCipher(dir).cipher);
  return {
    node,
    store,
    registry,
    stop: async () => {
      await node.stop();
      await transport.stop();
      await mvcc.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
