// The health checks only the node assembly can make, handed to the API's /readyz and /healthz
// (src/api/health.ts runs them): whether the store has a leader with quorum, and whether the node
// is shutting down. /livez gets neither: restarting a board whose peers are gone brings no quorum.
import type { HealthCheck, HealthEndpoint } from '../api/health.ts';
import type { RaftNode } from '../raftnode/node.ts';
import type { ApplyResult } from '../store/index.ts';

/** A leader unheard of for this many election timeouts (at least MIN_SILENCE_MS) fails readiness. */
export const LEADER_SILENCE_ELECTION_TIMEOUTS = 3;
const MIN_SILENCE_MS = 1_000;

/**
 * `raft-leader`: this node knows a leader that holds quorum, from the Raft node's own view (no
 * message and no disk write per probe): a follower heard from its leader lately, a leader from a
 * quorum of voters. Kubernetes' `etcd` check plays this part (it is in /healthz and /readyz).
 */
export function raftLeaderCheck(node: Pick<RaftNode<ApplyResult>, 'leaderProblem' | 'electionTimeoutMs'>): HealthCheck {
  const silenceMs = Math.max(MIN_SILENCE_MS, LEADER_SILENCE_ELECTION_TIMEOUTS * node.electionTimeoutMs);
  return {
    name: 'raft-leader',
    check() {
      const problem = node.leaderProblem(silenceMs);
      if (problem !== null) throw new Error(problem);
    },
  };
}

/** `shutdown`: fails once the node has begun to stop, so load balancers stop sending to it (Kubernetes' readyz check of that name). */
export function shutdownCheck(stopping: () => boolean): HealthCheck {
  return {
    name: 'shutdown',
    check() {
      if (stopping()) throw new Error('the node is shutting down');
    },
  };
}

export function nodeHealthChecks(node: Pick<RaftNode<ApplyResult>, 'leaderProblem' | 'electionTimeoutMs'>, stopping: () => boolean): Partial<Record<HealthEndpoint, readonly HealthCheck[]>> {
  const leader = raftLeaderCheck(node);
  return { readyz: [leader, shutdownCheck(stopping)], healthz: [leader] };
}
