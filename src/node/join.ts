// A new data dir that joins a running cluster: asks a member (through its client port) to add
// this node as a learner, and learns where the other members listen.
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { RaftNode } from '../raftnode/node.ts';
import { StoreClient } from '../store/client.ts';
import type { StoreClientTls } from '../store/wire.ts';
import { removeFetchedIdentity } from './identity.ts';

export async function joinCluster<R>(node: RaftNode<R>, via: string[], name: string, peerAddress: string, logger: Logger, retryForMs: number, tls: StoreClientTls | undefined): Promise<void> {
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

/**
 * A join that never happened leaves an empty log that could not start again: remove what this
 * start created, so the next attempt (maybe with another token) begins clean. The log last: a
 * store without a log is refused at the next start (see datadir-check.ts).
 */
export function removeFailedJoin(paths: { dataDir: string; raftDir: string; storeDir: string; membersFile: string }, fetchedIdentity: boolean): void {
  rmSync(paths.membersFile, { force: true });
  rmSync(paths.storeDir, { recursive: true, force: true });
  rmSync(paths.raftDir, { recursive: true, force: true });
  if (fetchedIdentity) removeFetchedIdentity(paths.dataDir);
}
