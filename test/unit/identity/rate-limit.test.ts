import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProofLimiter } from '../../../src/identity/rate-limit.ts';

test('wrong proofs: a burst per address, then blocked until a token refills; other addresses unaffected', () => {
  let nowMs = 1_000_000;
  const limiter = new ProofLimiter({ burst: 3, refillMs: 1_000, maxAddresses: 100 }, () => nowMs);
  assert.equal(limiter.blockedForMs('10.0.0.9'), 0);
  assert.equal(limiter.recordFailure('10.0.0.9'), false);
  assert.equal(limiter.recordFailure('10.0.0.9'), false);
  assert.equal(limiter.blockedForMs('10.0.0.9'), 0, 'the third try is still allowed');
  assert.equal(limiter.recordFailure('10.0.0.9'), true, 'the third wrong proof empties the bucket');
  assert.equal(limiter.blockedForMs('10.0.0.9'), 1_000);
  assert.equal(limiter.blockedForMs('10.0.0.8'), 0, 'per address');
  nowMs += 400;
  assert.equal(limiter.blockedForMs('10.0.0.9'), 600);
  nowMs += 600;
  assert.equal(limiter.blockedForMs('10.0.0.9'), 0, 'one token back after refillMs');
  assert.equal(limiter.recordFailure('10.0.0.9'), true, 'and it is used by the next wrong proof');
  assert.equal(limiter.blockedForMs('10.0.0.9'), 1_000);
  nowMs += 10_000;
  assert.equal(limiter.blockedForMs('10.0.0.9'), 0);
  // Refilled to the burst, never beyond: three more wrong proofs block again.
  for (let i = 0; i < 2; i++) assert.equal(limiter.recordFailure('10.0.0.9'), false);
  assert.equal(limiter.recordFailure('10.0.0.9'), true);
});

test('memory stays bounded: full buckets are forgotten first, then the least recently failed', () => {
  let nowMs = 0;
  const limiter = new ProofLimiter({ burst: 2, refillMs: 1_000, maxAddresses: 3 }, () => nowMs);
  limiter.recordFailure('a');
  nowMs += 5_000; // a's bucket is full again
  limiter.recordFailure('b');
  limiter.recordFailure('b');
  limiter.recordFailure('c');
  limiter.recordFailure('d');
  assert.equal(limiter.size, 3);
  assert.equal(limiter.blockedForMs('b'), 1_000, 'b (blocked) is kept, a (refilled) was dropped');
  for (const address of ['e', 'f', 'g']) limiter.recordFailure(address);
  assert.equal(limiter.size, 3);
  assert.equal(limiter.blockedForMs('e') + limiter.blockedForMs('f') + limiter.blockedForMs('g'), 0, 'one failure each leaves a token');
});
