// The per-user limits with a hand-turned clock: the token bucket (burst, refill, Retry-After),
// the in-flight caps (per user, all users together), the separate allowance of the nodes and the
// admin, the long-running classification, and the bound on remembered users.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestAttributes, type UserInfo } from '../../../src/api/auth/index.ts';
import { Fairness, type FairnessOptions, isLongRunning, type Refusal, TOO_MANY_REQUESTS } from '../../../src/api/fairness.ts';

const alice: UserInfo = { username: 'alice', groups: ['students', 'system:authenticated'] };
const bob: UserInfo = { username: 'bob', groups: ['system:authenticated'] };
const node: UserInfo = { username: 'system:node:pi1', groups: ['system:nodes', 'system:authenticated'] };
const admin: UserInfo = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };

function setup(overrides: Partial<FairnessOptions> = {}): { fairness: Fairness; clock: { ms: number } } {
  const clock = { ms: 0 };
  const fairness = new Fairness({ user: { qps: 2, burst: 5, maxInflight: 3 }, usersMaxInflight: 4, system: { qps: 100, burst: 50, maxInflight: 20 }, now: () => clock.ms, ...overrides });
  return { fairness, clock };
}

function refusalOf(taken: { release: () => void } | { refusal: Refusal }): Refusal {
  assert.ok('refusal' in taken, 'expected a refusal');
  return taken.refusal;
}

function released(taken: { release: () => void } | { refusal: Refusal }): void {
  assert.ok('release' in taken, `expected a seat, got ${JSON.stringify(taken)}`);
  taken.release();
}

test('the bucket: burst requests at once, then 429 with the wait for one token; refilled at qps', () => {
  const { fairness, clock } = setup();
  for (let i = 0; i < 5; i++) released(fairness.acquire(alice));
  const refused = refusalOf(fairness.acquire(alice));
  assert.equal(refused.retryAfterSeconds, 1);
  assert.deepEqual(refused.status, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: TOO_MANY_REQUESTS,
    reason: 'TooManyRequests',
    details: { retryAfterSeconds: 1, causes: [{ reason: 'TooManyRequests', message: 'alice sent more than 5 requests at once or 2 per second' }] },
    code: 429,
  });
  clock.ms += 499;
  refusalOf(fairness.acquire(alice));
  clock.ms += 1;
  released(fairness.acquire(alice));
  refusalOf(fairness.acquire(alice));
  // A slow rate gives a longer wait: 0.25/s and an empty bucket is 4 s.
  const slow = setup({ user: { qps: 0.25, burst: 1, maxInflight: 3 } }).fairness;
  released(slow.acquire(alice));
  assert.equal(refusalOf(slow.acquire(alice)).retryAfterSeconds, 4);
});

test('in flight: a user\'s fourth request at once is refused (Retry-After 1) until one ends; others are not affected', () => {
  const { fairness } = setup();
  const seats = [fairness.acquire(alice), fairness.acquire(alice), fairness.acquire(alice)];
  const refused = refusalOf(fairness.acquire(alice));
  assert.equal(refused.retryAfterSeconds, 1);
  assert.equal(refused.status.details?.causes?.[0]?.message, 'alice has 3 requests in flight, the most one user may have');
  released(fairness.acquire(bob));
  const first = seats[0];
  assert.ok(first && 'release' in first);
  first.release();
  first.release(); // idempotent: a second release must not free another seat
  released(fairness.acquire(alice));
});

test('all users together: the cap holds across users; the nodes and the admin are outside it', () => {
  const { fairness } = setup({ user: { qps: 100, burst: 100, maxInflight: 3 } });
  for (let i = 0; i < 3; i++) assert.ok('release' in fairness.acquire(alice));
  assert.ok('release' in fairness.acquire(bob));
  const refused = refusalOf(fairness.acquire(bob));
  assert.equal(refused.status.details?.causes?.[0]?.message, 'users have 4 requests in flight together, the most this server serves for users other than the nodes and the admin');
  for (let i = 0; i < 10; i++) assert.ok('release' in fairness.acquire(node));
  for (let i = 0; i < 10; i++) assert.ok('release' in fairness.acquire(admin));
});

test('a student\'s empty bucket does not touch the nodes\' or the admin\'s; a token user named admin is an ordinary user', () => {
  const { fairness } = setup();
  for (let i = 0; i < 5; i++) released(fairness.acquire(alice));
  refusalOf(fairness.acquire(alice));
  for (let i = 0; i < 50; i++) released(fairness.acquire(node));
  for (let i = 0; i < 50; i++) released(fairness.acquire(admin));
  refusalOf(fairness.acquire(node));
  const impostor: UserInfo = { username: 'admin', groups: ['system:authenticated'] };
  for (let i = 0; i < 5; i++) released(fairness.acquire(impostor));
  refusalOf(fairness.acquire(impostor));
});

test('long-running requests as Kubernetes classifies them', () => {
  const long = (method: string, url: string) => isLongRunning(requestAttributes(alice, method, url));
  assert.equal(long('GET', '/api/v1/namespaces/default/pods?watch=1'), true);
  assert.equal(long('GET', '/api/v1/watch/namespaces/default/pods'), true);
  assert.equal(long('GET', '/api/v1/namespaces/default/pods/p/log?follow=true'), true);
  assert.equal(long('GET', '/api/v1/namespaces/default/pods/p/exec?command=sh'), true);
  assert.equal(long('GET', '/api/v1/namespaces/default/pods'), false);
  assert.equal(long('POST', '/api/v1/namespaces/default/configmaps'), false);
});

test('users idle with a full bucket are forgotten once 1024 are remembered', () => {
  const { fairness, clock } = setup();
  for (let i = 0; i < 1024; i++) released(fairness.acquire({ username: `u${i}`, groups: [] }));
  assert.equal(fairness.trackedUsers, 1024);
  clock.ms += 10_000;
  released(fairness.acquire({ username: 'late', groups: [] }));
  assert.equal(fairness.trackedUsers, 1);
});

test('a limit that is not a positive number is refused at construction', () => {
  assert.throws(() => setup({ user: { qps: 0, burst: 5, maxInflight: 3 } }), /user\.qps must be a positive number/);
  assert.throws(() => setup({ system: { qps: 1, burst: Number.NaN, maxInflight: 3 } }), /system\.burst must be a positive number/);
});
