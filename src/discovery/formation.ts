import type { Peer, ProposalPhase } from './records.ts';

/**
 * Bootstrap-expect agreement, as a pure step function (the driver in node-discovery.ts feeds it the
 * browse table and the clock). Three rules make "exactly one group forms" hold whenever the
 * nodes' views overlap (one LAN, all powered on within the settle window):
 *
 * 1. Only the N lowest node ids of a view that has been stable for the settle window may
 *    propose, and what they propose is that set.
 * 2. A proposer locks (phase `ready`, written to disk before it is announced) only once every
 *    node of its set announces the same set. A locked node never proposes another set.
 * 3. A node bootstraps Raft only once every node of its set announces `ready` for that set (or
 *    is already a `member` formed from it). So a committed set has every node locked on it, and
 *    two sets that share a node can never both commit.
 *
 * Everyone else waits for a `member` announcement of the same cluster and joins as a learner.
 */
export interface FormationMemory {
  /** The set this node proposes or is locked on (sorted node ids), or null. */
  boot: string[] | null;
  phase: ProposalPhase | null;
  /** The forming view (sorted ids) and since when it has been unchanged. */
  view: string;
  viewSinceMs: number;
}

export type FormationDecision =
  | { kind: 'wait'; reason: string }
  | { kind: 'propose'; boot: string[] }
  | { kind: 'lock'; boot: string[] }
  | { kind: 'bootstrap'; boot: string[]; members: Peer[] }
  | { kind: 'join'; via: Peer[] };

export interface FormationInput {
  selfId: string;
  clusterId: string;
  expect: number;
  settleMs: number;
  nowMs: number;
  peers: Peer[];
}

export function initialMemory(nowMs: number): FormationMemory {
  return { boot: null, phase: null, view: '', viewSinceMs: nowMs };
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, i) => id === b[i]);
const sortIds = (ids: Iterable<string>) => [...ids].sort();

/** One step: returns the decision and the memory to keep (the caller persists a lock before announcing it). */
export function formationStep(input: FormationInput, memory: FormationMemory): { decision: FormationDecision; memory: FormationMemory } {
  const peers = input.peers.filter((peer) => peer.clusterId === input.clusterId && peer.nodeId !== input.selfId);
  const members = peers.filter((peer) => peer.state === 'member');
  const forming = peers.filter((peer) => peer.state === 'forming');
  const view = sortIds([input.selfId, ...forming.map((peer) => peer.nodeId)]).join(',');
  const next: FormationMemory = view === memory.view ? { ...memory } : { ...memory, view, viewSinceMs: input.nowMs };
  const byId = new Map(peers.map((peer) => [peer.nodeId, peer]));
  const done = (decision: FormationDecision) => ({ decision, memory: next });

  if (next.phase === 'ready' && next.boot) {
    const boot = next.boot;
    const others = boot.filter((id) => id !== input.selfId);
    const allReady = others.every((id) => {
      const peer = byId.get(id);
      return peer !== undefined && same(peer.boot, boot) && (peer.phase === 'ready' || peer.state === 'member');
    });
    if (allReady) return done({ kind: 'bootstrap', boot, members: others.map((id) => byId.get(id)!) });
    // Another group formed that shares a node with ours: that node is locked on the other group,
    // so ours can never complete. Join theirs.
    const rival = members.filter((peer) => peer.boot.length > 0 && !same(peer.boot, boot) && peer.boot.some((id) => boot.includes(id)));
    if (rival.length > 0) return done({ kind: 'join', via: rival });
    return done({ kind: 'wait', reason: `locked on ${boot.length} first voters; waiting for all of them to be ready` });
  }

  if (members.length > 0) return done({ kind: 'join', via: members });

  // A locked peer whose set includes us: go with it (the smallest such set, so all agree).
  const lockedSets = forming
    .filter((peer) => peer.phase === 'ready' && peer.boot.includes(input.selfId))
    .map((peer) => peer.boot)
    .sort((a, b) => a.join(',').localeCompare(b.join(',')));
  let proposal: string[] | null = lockedSets[0] ?? null;
  if (!proposal) {
    const ids = view.split(',');
    if (ids.length < input.expect) {
      next.boot = null;
      next.phase = null;
      return done({ kind: 'wait', reason: `${ids.length} of ${input.expect} expected nodes of cluster ${input.clusterId} in sight` });
    }
    if (input.nowMs - next.viewSinceMs < input.settleMs) return done({ kind: 'wait', reason: 'letting the set of forming nodes settle' });
    const lowest = ids.slice(0, input.expect);
    if (!lowest.includes(input.selfId)) {
      next.boot = null;
      next.phase = null;
      return done({ kind: 'wait', reason: 'not among the first voters; waiting for the cluster to form, then joining it' });
    }
    proposal = lowest;
  }
  next.boot = proposal;
  next.phase = 'propose';
  const agreed = proposal.every((id) => id === input.selfId || (byId.get(id)?.state === 'forming' && same(byId.get(id)!.boot, proposal)));
  if (agreed) {
    next.phase = 'ready';
    return done({ kind: 'lock', boot: proposal });
  }
  return done({ kind: 'propose', boot: proposal });
}
