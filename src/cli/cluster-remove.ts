import type { ConfState } from '../raft/types.ts';
import { StoreClient, StoreClientError } from '../store/client.ts';
import type { StoreClientTls } from '../store/wire.ts';

/**
 * `bramble cluster remove NAME`: takes a member out of the Raft configuration through any member
 * (forwarded to the leader). For a board that is gone for good; a removed board that still runs
 * is no longer a member and must be started with an empty data dir (and the token) to come back.
 */
export async function clusterRemove(name: string, endpoints: string[], tls?: StoreClientTls): Promise<string> {
  const client = new StoreClient({ endpoints, timeoutMs: 15_000, tls });
  try {
    const answer = await client.removeMember<{ confState: ConfState }>(name);
    const list = (ids: string[]) => (ids.length > 0 ? ids.join(',') : '<none>');
    return (
      `removed ${name} from the cluster: voters ${list(answer.confState.voters)}, learners ${list(answer.confState.learners)}\n` +
      `If ${name} still runs, stop it: it is no longer a member. To bring the board back, start it with an empty data dir and the join token.\n`
    );
  } catch (error) {
    if (error instanceof StoreClientError) throw new Error(`could not remove ${name}: ${error.message}`);
    throw error;
  } finally {
    client.close();
  }
}
