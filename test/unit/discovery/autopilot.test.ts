import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Autopilot, type AutopilotConfig, type AutopilotNode, assessHealth, type MemberHealth, planChange, targetVoters } from '../../../src/discovery/autopilot.ts';
import type { Status } from '../../../src/raft/types.ts';

const config: AutopilotConfig = { voters: 0, stableMs: 1_000, deadAfterMs: 5_000, removeDeadLearnersAfterMs: 0, healthyContactMs: 500, maxTrailingEntries: 100 };
const now = 100_000;

function member(id: string, role: MemberHealth['role'], health: MemberHealth['health'], healthyForMs = 60_000, silentMs = health === 'healthy' ? 10 : 9_000): MemberHealth {
  return { id, role, lastContactMs: silentMs, silentMs, trailingEntries: 0, health, healthySinceMs: health === 'healthy' ? now - healthyForMs : null };
}

test('automatic target: 3 voters, 5 once five members are healthy, never more than there are', () => {
  const five = ['a', 'b', 'c', 'd', 'e'].map((id, i) => member(id, i === 0 ? 'leader' : 'voter', 'healthy'));
  assert.equal(targetVoters(five, config), 5);
  assert.equal(targetVoters([...five.slice(0, 4), member('e', 'learner', 'dead')], config), 3);
  assert.equal(targetVoters(five.slice(0, 2), config), 2);
  assert.equal(targetVoters(five, { ...config, voters: 3 }), 3);
});

test('a learner is promoted only once healthy for the stabilization time, the longest-stable first', () => {
  const members = [member('a', 'leader', 'healthy'), member('b', 'voter', 'healthy'), member('c', 'voter', 'healthy'), member('d', 'learner', 'healthy', 400), member('e', 'learner', 'healthy', 2_000)];
  const conf = { voters: ['a', 'b', 'c'], learners: ['d', 'e'] };
  assert.deepEqual(planChange(members, conf, now, { ...config, voters: 5 }), { kind: 'promote', id: 'e', why: '3 voters, target 5' });
  assert.equal(planChange(members, conf, now, { ...config, voters: 3 }), null);
  const young = members.map((m) => (m.id === 'e' ? member('e', 'learner', 'healthy', 999) : m));
  assert.equal(planChange(young, conf, now, { ...config, voters: 5 }), null);
  const unhealthy = members.map((m) => (m.role === 'learner' ? member(m.id, 'learner', 'unhealthy') : m));
  assert.equal(planChange(unhealthy, conf, now, { ...config, voters: 5 }), null);
});

test('a dead voter is replaced: first promote a stable learner, then demote the dead voter', () => {
  const fixed = { ...config, voters: 3 };
  const before = [member('a', 'leader', 'healthy'), member('b', 'voter', 'healthy'), member('c', 'voter', 'dead'), member('d', 'learner', 'healthy')];
  assert.deepEqual(planChange(before, { voters: ['a', 'b', 'c'], learners: ['d'] }, now, fixed), { kind: 'promote', id: 'd', why: 'replacing dead voter c' });
  const promoted = before.map((m) => (m.id === 'd' ? { ...m, role: 'voter' as const } : m));
  assert.deepEqual(planChange(promoted, { voters: ['a', 'b', 'c', 'd'], learners: [] }, now, fixed)?.kind, 'demote');
  assert.equal(planChange(promoted, { voters: ['a', 'b', 'c', 'd'], learners: [] }, now, fixed)?.id, 'c');
  // Another stable learner waiting does not get a second promotion for the same dead voter.
  const withSpare = [...promoted, member('e', 'learner', 'healthy')];
  assert.deepEqual(planChange(withSpare, { voters: ['a', 'b', 'c', 'd'], learners: ['e'] }, now, fixed), { kind: 'demote', id: 'c', why: 'voter c has been silent for over 5000 ms' });
});

test('never below quorum by reconfiguration, and no shrinking below the target without a replacement', () => {
  // One dead voter of three, no learner: keep it (removing it would leave two, both needed).
  const oneDead = [member('a', 'leader', 'healthy'), member('b', 'voter', 'healthy'), member('c', 'voter', 'dead')];
  assert.equal(planChange(oneDead, { voters: ['a', 'b', 'c'], learners: [] }, now, config), null);
  // Two dead of three: adding a voter (4 voters, 2 healthy + 1) or removing one (2 voters, 1 healthy) both lose quorum.
  const twoDead = [member('a', 'leader', 'healthy'), member('b', 'voter', 'dead'), member('c', 'voter', 'dead'), member('d', 'learner', 'healthy')];
  assert.equal(planChange(twoDead, { voters: ['a', 'b', 'c'], learners: ['d'] }, now, config), null);
  // Fixed target 3 with five healthy voters: demote one that is not the leader.
  const five = ['a', 'b', 'c', 'd', 'e'].map((id, i) => member(id, i === 0 ? 'leader' : 'voter', 'healthy'));
  assert.deepEqual(planChange(five, { voters: ['a', 'b', 'c', 'd', 'e'], learners: [] }, now, { ...config, voters: 3 }), { kind: 'demote', id: 'e', why: '5 voters, target 3' });
  // Automatic target never demotes healthy voters (it would flap with every slow heartbeat).
  const fourHealthy = [...five.slice(0, 4), member('e', 'voter', 'unhealthy')];
  assert.equal(planChange(fourHealthy, { voters: ['a', 'b', 'c', 'd', 'e'], learners: [] }, now, config), null);
});

test('health: last contact and log lag from the leader status; never heard counts from when it began to lead', () => {
  const status = {
    id: 'a', role: 'leader', term: 2, vote: 'a', leader: 'a', commit: 500, applied: 500, lastIndex: 500, leadTransferee: null,
    confState: { voters: ['a', 'b', 'c'], learners: ['d', 'e'] },
    progress: { a: { match: 500 }, b: { match: 499 }, c: { match: 100 }, d: { match: 500 }, e: { match: 0 } },
  } as unknown as Status;
  const since = new Map<string, number>();
  const health = assessHealth(status, new Map([['b', now - 100], ['c', now - 100], ['d', now - 2_000]]), now, since, config, now - 6_000);
  assert.deepEqual(health.map((m) => [m.id, m.role, m.health, m.lastContactMs, m.silentMs, m.trailingEntries]), [
    ['a', 'leader', 'healthy', 0, 0, 0],
    ['b', 'voter', 'healthy', 100, 100, 1],
    ['c', 'voter', 'unhealthy', 100, 100, 400],
    ['d', 'learner', 'unhealthy', 2_000, 2_000, 0],
    ['e', 'learner', 'dead', null, 6_000, 500],
  ]);
  const fresh = assessHealth(status, new Map(), now, new Map(), config, now - 1_000);
  assert.equal(fresh.find((m) => m.id === 'e')?.health, 'unhealthy');
});

test('a learner dead for longer than removeDeadLearnersAfterMs is removed, the longest silent first, after any voter change; 0 never removes', () => {
  const removing = { ...config, voters: 3, removeDeadLearnersAfterMs: 60_000 };
  const conf = { voters: ['a', 'b', 'c'], learners: ['d', 'e', 'f'] };
  const members = [member('a', 'leader', 'healthy'), member('b', 'voter', 'healthy'), member('c', 'voter', 'healthy'), member('d', 'learner', 'dead', 0, 61_000), member('e', 'learner', 'dead', 0, 90_000), member('f', 'learner', 'healthy')];
  assert.deepEqual(planChange(members, conf, now, removing), { kind: 'remove', id: 'e', why: 'learner e has been silent for over 60000 ms' });
  assert.equal(planChange(members, conf, now, { ...removing, removeDeadLearnersAfterMs: 0 }), null, '0: never');
  // Dead (past deadAfterMs) but not yet past the removal time: kept, so a board that comes back can catch up.
  const recent = members.map((m) => (m.role === 'learner' && m.health === 'dead' ? member(m.id, 'learner', 'dead', 0, 30_000) : m));
  assert.equal(planChange(recent, conf, now, removing), null);
  // A dead voter is dealt with first (one change at a time): promote the healthy learner, then demote.
  const deadVoter = members.map((m) => (m.id === 'c' ? member('c', 'voter', 'dead', 0, 90_000) : m));
  assert.deepEqual(planChange(deadVoter, conf, now, removing), { kind: 'promote', id: 'f', why: 'replacing dead voter c' });
  // Voters are never removed this way, however long they are silent.
  const onlyVoterDead = [member('a', 'leader', 'healthy'), member('b', 'voter', 'healthy'), member('c', 'voter', 'dead', 0, 900_000)];
  assert.equal(planChange(onlyVoterDead, { voters: ['a', 'b', 'c'], learners: [] }, now, removing), null);
});

test('the driver makes one change at a time: the second dead learner is removed only after the first removal finished', async () => {
  const conf = { voters: ['a'], learners: ['d', 'e'] };
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const node: AutopilotNode = {
    status: () => ({ id: 'a', role: 'leader', commit: 10, confState: { voters: [...conf.voters], learners: [...conf.learners] }, progress: { a: { match: 10 }, d: { match: 0 }, e: { match: 0 } }, leadTransferee: null }) as unknown as Status,
    // d and e were last heard long ago (never within this test).
    lastContact: () => new Map([['d', Date.now() - 120_000], ['e', Date.now() - 100_000]]),
    promote: () => Promise.reject(new Error('not expected')),
    demote: () => Promise.reject(new Error('not expected')),
    removeMember: (id) => {
      calls.push(id);
      return new Promise<void>((resolve) => pending.push(() => {
        conf.learners = conf.learners.filter((learner) => learner !== id);
        resolve();
      }));
    },
  };
  const autopilot = new Autopilot(node, { ...config, voters: 1, removeDeadLearnersAfterMs: 60_000, intervalMs: 10 }, pino({ level: 'silent' }));
  autopilot.start();
  try {
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
    await settle();
    assert.deepEqual(calls, ['d'], 'the longest silent first, and nothing else while it is in flight');
    pending.shift()!();
    await settle();
    assert.deepEqual(calls, ['d', 'e']);
    pending.shift()!();
    await settle();
    assert.deepEqual(calls, ['d', 'e'], 'nothing left to remove');
    assert.match(autopilot.report()?.lastAction ?? '', /^remove e \(learner e has been silent for over 60000 ms\): done$/);
  } finally {
    autopilot.stop();
  }
});
