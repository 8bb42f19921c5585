// Flow control primitives: the inflight window and the probe/replicate/snapshot state machine.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Inflights, Progress } from '../../../src/raft/progress.ts';

describe('inflights', () => {
  test('bounded window, freed by acknowledgements up to an index', () => {
    const window = new Inflights(3);
    window.add(5);
    window.add(9);
    window.add(12);
    assert.equal(window.full(), true);
    assert.throws(() => window.add(13));
    window.freeLE(9);
    assert.equal(window.count, 1);
    window.freeLE(8);
    assert.equal(window.count, 1, 'a stale ack frees nothing');
    window.freeFirstOne();
    assert.equal(window.count, 0);
  });
});

describe('progress', () => {
  test('probe state sends one message at a time until answered', () => {
    const pr = new Progress(10, 4, false);
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(3, 12);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.next, 10, 'probing does not move next optimistically');
    assert.equal(pr.maybeUpdate(12), true);
    assert.equal(pr.isPaused(), false);
  });

  test('replicate state pipelines up to the window, then pauses', () => {
    const pr = new Progress(1, 2, false);
    pr.becomeReplicate();
    pr.sentEntries(2, 2);
    assert.equal(pr.next, 3);
    pr.sentEntries(2, 4);
    assert.equal(pr.isPaused(), true);
    pr.maybeUpdate(2);
    pr.inflights.freeLE(2);
    assert.equal(pr.isPaused(), false);
  });

  test('maybeDecrTo: stale rejections ignored, probe jumps to the hint', () => {
    const pr = new Progress(51, 4, false);
    assert.equal(pr.maybeDecrTo(40, 10), false, 'not the probe we sent');
    assert.equal(pr.maybeDecrTo(50, 10), true);
    assert.equal(pr.next, 11);
    pr.match = 20;
    pr.becomeReplicate();
    assert.equal(pr.maybeDecrTo(20, 5), false, 'replicate: rejection at or below match is stale');
    assert.equal(pr.maybeDecrTo(25, 5), true);
    assert.equal(pr.next, 21, 'replicate falls back to match + 1');
  });

  test('snapshot state pauses; leaving it resumes after the snapshot', () => {
    const pr = new Progress(5, 4, false);
    pr.becomeSnapshot(100);
    assert.equal(pr.isPaused(), true);
    pr.becomeProbe();
    assert.equal(pr.next, 101);
    assert.equal(pr.state, 'probe');
  });
});
