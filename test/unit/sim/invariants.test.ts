// The invariant checker on hand-made facts: each property stays quiet on a legal history and
// throws the named violation on the smallest history that breaks it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entry, Message } from '../../../src/raft/index.ts';
import { entriesView, InvariantChecker, InvariantViolation } from '../../sim/invariants.ts';
import type { InvariantName } from '../../sim/invariants.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const entry = (index: number, term: number, data = `e${index}t${term}`): Entry => ({ index, term, type: 'normal', data: bytes(data) });

function violates(name: InvariantName, run: () => void): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvariantViolation, String(error));
    assert.equal(error.info.invariant, name, error.message);
    return true;
  });
}

function message(fields: Partial<Message>): Message {
  return { type: 'appResp', from: 'a', to: 'b', term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}

describe('invariant checker', () => {
  test('election safety: one leader per term, across the run', () => {
    const c = new InvariantChecker();
    c.onLeader('a', 1);
    c.onLeader('a', 1);
    c.onLeader('b', 2);
    violates('election-safety', () => c.onLeader('c', 1));
  });

  test('log matching: same (index, term) means same entry and the same predecessor term', () => {
    const c = new InvariantChecker();
    const log = [entry(1, 1), entry(2, 2)];
    c.onDurableEntries('a', log, entriesView(log));
    c.onDurableEntries('b', log, entriesView(log));
    const otherPayload = [entry(1, 1), entry(2, 2, 'different')];
    violates('log-matching', () => c.onDurableEntries('c', [otherPayload[1]!], entriesView(otherPayload)));
    const otherPrev = [entry(1, 2, 'e1t1'), entry(2, 2)];
    violates('log-matching', () => c.onDurableEntries('d', [otherPrev[1]!], entriesView(otherPrev)));
  });

  test('commit index never goes back, in memory within a life and durably across restarts', () => {
    const c = new InvariantChecker();
    const log = entriesView([entry(1, 1), entry(2, 1), entry(3, 1)]);
    c.onCommit('a', 1, 3, log);
    violates('commit-monotonic', () => c.onCommit('a', 1, 2, log));
    c.onRestart('b', 0);
    c.onCommit('b', 1, 2, log);
    c.onRestart('b', 1); // a restart may resume below its last in-memory commit (only the durable one counts)
    c.onCommit('b', 1, 2, log);
    c.onDurableHardState('b', { term: 1, vote: null, commit: 2 });
    violates('commit-monotonic', () => c.onDurableHardState('b', { term: 1, vote: null, commit: 1 }));
  });

  test('state machine safety: one term per committed index, one applied sequence', () => {
    const c = new InvariantChecker();
    c.onCommit('a', 2, 2, entriesView([entry(1, 1), entry(2, 2)]));
    violates('state-machine-safety', () => c.onCommit('b', 3, 2, entriesView([entry(1, 1), entry(2, 3)])));
    const d = new InvariantChecker();
    d.onApply('a', 5, 2, 0xabc);
    d.onApply('b', 5, 2, 0xabc);
    violates('state-machine-safety', () => d.onApply('c', 5, 2, 0xdef));
    violates('state-machine-safety', () => d.onSnapshotInstalled('c', 3, 5, 2, 0x123));
  });

  test('leader completeness: a later leader holds every entry committed earlier; acknowledged ones are named as such', () => {
    const c = new InvariantChecker();
    c.onCommit('a', 2, 2, entriesView([entry(1, 1), entry(2, 2)]));
    c.checkLeaderLog('a', 2, entriesView([entry(1, 1)])); // its own term: not checked
    c.checkLeaderLog('b', 3, entriesView([entry(1, 1), entry(2, 2), entry(3, 3)]));
    violates('leader-completeness', () => c.checkLeaderLog('c', 4, entriesView([entry(1, 1), entry(2, 3)])));
    violates('leader-completeness', () => c.checkLeaderLog('d', 5, entriesView([entry(1, 1)])));
    // Compacted into a snapshot is not missing.
    c.checkLeaderLog('e', 6, entriesView([entry(3, 3)], { index: 2, term: 2 }));
    c.onAck('a', 2, 2, 2);
    violates('acked-write-lost', () => c.checkLeaderEntries('f', 7, [entry(2, 7)]));
  });

  test('persist before send: a vote or an ack promises only durable state', () => {
    const c = new InvariantChecker();
    const durable = entriesView([entry(1, 1)]);
    const live = entriesView([entry(1, 1), entry(2, 2)]);
    const hs = { term: 2, vote: 'b', commit: 1 };
    c.onSend('a', message({ type: 'voteResp', to: 'b', term: 2 }), durable, hs, live);
    violates('persist-before-send', () => c.onSend('a', message({ type: 'voteResp', to: 'c', term: 2 }), durable, hs, live));
    violates('persist-before-send', () => c.onSend('a', message({ type: 'voteResp', to: 'b', term: 3 }), durable, hs, live));
    c.onSend('a', message({ index: 1 }), durable, hs, live);
    violates('persist-before-send', () => c.onSend('a', message({ index: 2 }), durable, hs, live));
    // Rejections promise nothing.
    c.onSend('a', message({ type: 'voteResp', to: 'c', term: 2, reject: true }), durable, hs, live);
    // The check can be left to the other invariants (mutation test).
    new InvariantChecker({ persistBeforeSend: false }).onSend('a', message({ index: 2 }), durable, hs, live);
  });
});
