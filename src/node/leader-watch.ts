// Stage "leader watch": says so, once per stretch, when this node has known no leader for 20
// election timeouts: it cannot reach a quorum of voters, or it was removed from the cluster (a
// removed board that comes back with its old data dir is not told; it just never hears a leader again).
import type { Logger } from 'pino';
import type { Stoppable } from './stages.ts';

export function watchForLeader(node: { status(): { leader: string | null } }, electionMs: number, logger: Logger): Stoppable {
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
  return { stop: () => clearInterval(timer) };
}
