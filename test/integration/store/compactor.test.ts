// The leader's periodic compaction over a real single-member Raft node (LevelDB, TCP transport):
// each step compacts to the revision seen one step earlier, reads below it fail as compacted,
// newer ones still work, and a store that has not moved proposes nothing (no Raft entry).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { CompactedError, fromUtf8, utf8 } from '../../../src/store/index.ts';
import { startCompactor, type Compactor } from '../../../src/store/compactor.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';
import { waitFor } from '../../lib/wait.ts';

let n: InProcessNode;
let compactor: Compactor;
before(async () => {
  n = await startInProcessNode('compactor');
  await waitFor('leader', () => n.node.status().role === 'leader');
  // An hour: the test drives the steps itself with tick().
  compactor = startCompactor({ store: n.store, intervalMs: 3_600_000, logger: pino({ level: 'silent' }) });
});
after(async () => {
  compactor.stop();
  await n.stop();
});

async function put(key: string, value: string): Promise<number> {
  return (await n.store.put({ key: utf8(key), value: utf8(value) })).header.revision;
}

test('each step compacts to the revision seen one step earlier; an unmoved store proposes nothing', async () => {
  await put('a', '1');
  const first = await put('a', '2');
  assert.equal(await compactor.tick(), undefined, 'the first step only remembers the revision');
  const second = await put('a', '3');
  assert.equal(await compactor.tick(), first);
  assert.equal(n.store.local.compactedRevision(), first);
  await assert.rejects(n.store.range({ key: utf8('a'), revision: first - 1 }), CompactedError);
  assert.equal(fromUtf8((await n.store.range({ key: utf8('a'), revision: first })).kvs[0]?.value ?? new Uint8Array()), '2');
  assert.equal(await compactor.tick(), second, 'the revision seen at the previous step');
  const lastIndex = n.node.status().lastIndex;
  assert.equal(await compactor.tick(), undefined);
  assert.equal(await compactor.tick(), undefined);
  assert.equal(n.node.status().lastIndex, lastIndex, 'an idle store gets no Raft entry from the compactor');
  assert.equal(fromUtf8((await n.store.range({ key: utf8('a') })).kvs[0]?.value ?? new Uint8Array()), '3');
});
