import type { Logger } from 'pino';
import type { ConfState, NodeId, Status } from '../raft/types.ts';

/**
 * Autopilot keeps the number of voters at a target, on the leader only, with the ideas of
 * hashicorp/raft-autopilot (server health from last contact and log lag, a stabilization time
 * before promotion, one change at a time, never below quorum) over our RaftNode's learners:
 *
 * - A member is healthy when the leader heard from it within `healthyContactMs` and it is at most
 *   `maxTrailingEntries` behind the commit index; it is dead after `deadAfterMs` of silence.
 * - A learner healthy for `stableMs` without interruption may be promoted.
 * - A dead voter is replaced: first a stable learner is promoted, then the dead voter is demoted
 *   to a learner (not removed: if the board comes back it catches up and can be promoted again).
 * - The target is `voters` when set, else 5 when five healthy members exist and 3 otherwise,
 *   never more than the members there are. With a fixed `voters`, extra healthy voters are demoted,
 *   one at a time (an automatic target never demotes healthy voters: it would flap).
 * - A learner silent for `removeDeadLearnersAfterMs` (0: never) is removed from the
 *   configuration: a board gone for good (or re-flashed under a new node id) stops being tracked.
 *   Much longer than `deadAfterMs` by default, because a removed board that comes back cannot
 *   catch up from its old data dir (it must join again with an empty one), while a demoted one can.
 * - Every change must leave the healthy voters a quorum of the new configuration, and there is
 *   never more than one change in flight.
 */
export interface AutopilotConfig {
  /** Fixed target of voters; 0 means automatic (3, or 5 with five healthy members). */
  voters: number;
  stableMs: number;
  deadAfterMs: number;
  /** A learner silent this long is removed; 0 never removes. */
  removeDeadLearnersAfterMs: number;
  healthyContactMs: number;
  maxTrailingEntries: number;
}

export interface MemberHealth {
  id: NodeId;
  role: 'leader' | 'voter' | 'learner';
  /** Milliseconds since the leader last heard from it (0 for the leader itself); null if never. */
  lastContactMs: number | null;
  /** How long it has been silent (since it was last heard, or since this node began to lead); 0 for the leader. */
  silentMs: number;
  /** Entries behind the leader's commit index. */
  trailingEntries: number;
  health: 'healthy' | 'unhealthy' | 'dead';
  /** Since when it has been healthy without interruption (epoch ms), or null. */
  healthySinceMs: number | null;
}

export interface AutopilotReport {
  leader: NodeId;
  targetVoters: number;
  members: MemberHealth[];
  /** The last change autopilot made or tried, for `bramble cluster status`. */
  lastAction: string | null;
}

export type AutopilotAction = { kind: 'promote' | 'demote' | 'remove'; id: NodeId; why: string };

const quorum = (voters: number) => Math.floor(voters / 2) + 1;

/** Health of every member as the leader sees it. */
export function assessHealth(status: Status, lastHeardMs: ReadonlyMap<NodeId, number>, nowMs: number, healthySince: Map<NodeId, number>, c: AutopilotConfig, observingSinceMs: number): MemberHealth[] {
  const { confState } = status;
  const ids = [...confState.voters, ...confState.learners];
  return ids.map((id) => {
    if (id === status.id) {
      healthySince.set(id, healthySince.get(id) ?? nowMs);
      return { id, role: 'leader', lastContactMs: 0, silentMs: 0, trailingEntries: 0, health: 'healthy', healthySinceMs: healthySince.get(id)! };
    }
    const heard = lastHeardMs.get(id);
    const lastContactMs = heard === undefined ? null : Math.max(0, nowMs - heard);
    // Never heard since this node began to lead: silent for as long as it has been watching.
    const silentMs = lastContactMs ?? nowMs - observingSinceMs;
    const match = status.progress?.[id]?.match ?? 0;
    const trailingEntries = Math.max(0, status.commit - match);
    const contactOk = lastContactMs !== null && lastContactMs <= c.healthyContactMs;
    const health = contactOk && trailingEntries <= c.maxTrailingEntries ? 'healthy' : silentMs > c.deadAfterMs ? 'dead' : 'unhealthy';
    if (health === 'healthy') healthySince.set(id, healthySince.get(id) ?? nowMs);
    else healthySince.delete(id);
    return { id, role: confState.voters.includes(id) ? 'voter' : 'learner', lastContactMs, silentMs, trailingEntries, health, healthySinceMs: healthySince.get(id) ?? null };
  });
}

export function targetVoters(members: MemberHealth[], c: AutopilotConfig): number {
  const healthy = members.filter((member) => member.health === 'healthy').length;
  const wanted = c.voters > 0 ? c.voters : healthy >= 5 ? 5 : 3;
  return Math.min(wanted, members.length);
}

/** The one change to make now, or null. Pure: the driver applies it. */
export function planChange(members: MemberHealth[], confState: ConfState, nowMs: number, c: AutopilotConfig): AutopilotAction | null {
  const byId = new Map(members.map((member) => [member.id, member]));
  const voters = confState.voters;
  const healthyVoters = voters.filter((id) => byId.get(id)?.health === 'healthy');
  const stableLearners = confState.learners
    .map((id) => byId.get(id)!)
    .filter((member) => member.health === 'healthy' && member.healthySinceMs !== null && nowMs - member.healthySinceMs >= c.stableMs)
    .sort((a, b) => a.healthySinceMs! - b.healthySinceMs! || a.id.localeCompare(b.id));
  const deadVoters = voters.filter((id) => byId.get(id)?.health === 'dead').sort();
  const target = targetVoters(members, c);
  // Would the healthy voters still be a quorum of the configuration after this change?
  const keepsQuorum = (votersAfter: number, healthyAfter: number) => healthyAfter >= quorum(votersAfter);

  const candidate = stableLearners[0];
  // Dead voters do not count: one replacement per dead voter, then the dead one is demoted below.
  const liveVoters = voters.length - deadVoters.length;
  if (candidate && liveVoters < target && keepsQuorum(voters.length + 1, healthyVoters.length + 1)) {
    const why = deadVoters.length > 0 ? `replacing dead voter ${deadVoters[0]}` : `${voters.length} voters, target ${target}`;
    return { kind: 'promote', id: candidate.id, why };
  }
  // A dead voter goes once the voters left, all but it, stay at least the target (or a
  // replacement came in above): fewer voters is better than one that counts against quorum.
  const dead = deadVoters[0];
  if (dead && voters.length - 1 >= target && keepsQuorum(voters.length - 1, healthyVoters.length)) {
    return { kind: 'demote', id: dead, why: `voter ${dead} has been silent for over ${c.deadAfterMs} ms` };
  }
  // Only a fixed target shrinks healthy voters: an automatic one dips whenever a member is briefly slow.
  if (c.voters > 0 && voters.length > target && deadVoters.length === 0) {
    const extra = voters.filter((id) => byId.get(id)?.role !== 'leader').sort().at(-1);
    if (extra && keepsQuorum(voters.length - 1, healthyVoters.length - (byId.get(extra)?.health === 'healthy' ? 1 : 0))) {
      return { kind: 'demote', id: extra, why: `${voters.length} voters, target ${target}` };
    }
  }
  // Last: voters matter more. A learner never counts for quorum, so removing one is always safe.
  if (c.removeDeadLearnersAfterMs > 0) {
    const gone = confState.learners
      .map((id) => byId.get(id))
      .filter((member): member is MemberHealth => member !== undefined && member.health === 'dead' && member.silentMs > c.removeDeadLearnersAfterMs)
      .sort((a, b) => b.silentMs - a.silentMs || a.id.localeCompare(b.id))[0];
    if (gone) return { kind: 'remove', id: gone.id, why: `learner ${gone.id} has been silent for over ${c.removeDeadLearnersAfterMs} ms` };
  }
  return null;
}

/** What autopilot needs from the Raft node. */
export interface AutopilotNode {
  status(): Status;
  lastContact(): ReadonlyMap<NodeId, number>;
  promote(id: NodeId): Promise<unknown>;
  demote(id: NodeId): Promise<unknown>;
  removeMember(id: NodeId): Promise<unknown>;
}

/** Runs planChange on a timer while this node leads; one change in flight at most. */
export class Autopilot {
  private readonly healthySince = new Map<NodeId, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private lastAction: string | null = null;
  private lastReport: AutopilotReport | null = null;
  private leadingSinceMs: number | null = null;

  constructor(
    private readonly node: AutopilotNode,
    private readonly c: AutopilotConfig & { intervalMs: number },
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.round(), this.c.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The leader's view of every member, for `bramble cluster status`; null on a follower. */
  report(): AutopilotReport | null {
    return this.node.status().role === 'leader' ? this.lastReport : null;
  }

  private round(): void {
    const status = this.node.status();
    if (status.role !== 'leader') {
      // A new leader starts its own stabilization clocks: it has not watched anyone yet.
      this.healthySince.clear();
      this.lastReport = null;
      this.leadingSinceMs = null;
      return;
    }
    const now = Date.now();
    this.leadingSinceMs ??= now;
    const members = assessHealth(status, this.node.lastContact(), now, this.healthySince, this.c, this.leadingSinceMs);
    this.lastReport = { leader: status.id, targetVoters: targetVoters(members, this.c), members, lastAction: this.lastAction };
    if (this.inFlight || status.leadTransferee !== null) return;
    const action = planChange(members, status.confState, now, this.c);
    if (!action) return;
    this.inFlight = true;
    const text = `${action.kind} ${action.id} (${action.why})`;
    this.logger.info({ member: action.id, why: action.why }, `autopilot: ${action.kind}`);
    const change = action.kind === 'promote' ? this.node.promote(action.id) : action.kind === 'demote' ? this.node.demote(action.id) : this.node.removeMember(action.id);
    change.then(
      () => {
        this.lastAction = `${text}: done`;
      },
      (error: Error) => {
        this.lastAction = `${text}: failed (${error.message})`;
        this.logger.warn({ member: action.id, err: error.message }, `autopilot: ${action.kind} failed; trying again next round`);
      },
    ).finally(() => {
      this.inFlight = false;
      // A promoted learner starts a fresh stabilization if it is ever demoted again.
      this.healthySince.delete(action.id);
    });
  }
}
