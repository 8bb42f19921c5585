// The simulator's parts on their own: the event queue's order, the disk that loses unsynced
// writes, the network's partitions and the KV machine's once-per-operation apply.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPrng, MemoryStorage } from '../../../src/raft/index.ts';
import type { Entry } from '../../../src/raft/index.ts';
import { SimDisk } from '../../sim/disk.ts';
import { EventQueue } from '../../sim/event-queue.ts';
import { encodeCommand, KvMachine } from '../../sim/kv-machine.ts';
import { CALM_NETWORK, linksBetween, linksFrom, SimNetwork } from '../../sim/network.ts';

const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

describe('event queue', () => {
  test('pops by time, and same-time events in the order they were pushed', () => {
    const q = new EventQueue<string>();
    q.push(5, 'c');
    q.push(1, 'a');
    q.push(5, 'd');
    q.push(3, 'b');
    q.push(5, 'e');
    const order: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) order.push(e.item);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
    assert.throws(() => q.push(Number.NaN, 'x'), RangeError);
  });
});

describe('disk', () => {
  test('a crash loses every write after the last completed fsync, and only those', () => {
    const disk = new SimDisk(() => new MemoryStorage(), createPrng(1));
    disk.write({ kind: 'save', update: { entries: [entry(1, 1)], hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true } });
    const first = disk.requestFsync(0);
    disk.write({ kind: 'save', update: { entries: [entry(2, 1)], mustSync: true } });
    assert.equal(disk.live.lastIndex(), 2, 'the process reads its own writes at once');
    assert.equal(disk.durable.lastIndex(), 0);
    assert.equal(disk.completeFsync(first.id).length, 1);
    disk.requestFsync(first.doneAtMs); // never completes
    disk.write({ kind: 'save', update: { entries: [entry(3, 1)], mustSync: true } });
    assert.equal(disk.crash(), 2);
    assert.equal(disk.live.lastIndex(), 1);
    assert.equal(disk.durable.lastIndex(), 1);
    assert.deepEqual(disk.live.initialState().hardState, { term: 1, vote: 'a', commit: 0 });
    assert.deepEqual(disk.completeFsync(2), [], 'an fsync of the previous life is void');
  });

  test('fsyncs complete in request order; a slow spell stretches them', () => {
    const disk = new SimDisk(() => new MemoryStorage(), createPrng(2), { fsyncMinMs: 1, fsyncMaxMs: 3, slowFsyncMinMs: 100, slowFsyncMaxMs: 200 });
    disk.startSlowSpell(50);
    const slow = disk.requestFsync(0);
    assert.ok(slow.doneAtMs >= 100);
    const fast = disk.requestFsync(60);
    assert.ok(fast.doneAtMs >= slow.doneAtMs, 'a later fsync never overtakes an earlier one');
  });
});

describe('network', () => {
  test('partitions cut directed links per fault and heal independently', () => {
    const net = new SimNetwork(createPrng(3), CALM_NETWORK);
    net.cut('p1', linksBetween(['a'], ['b', 'c']));
    net.cut('p2', linksFrom(['b'], ['c']));
    assert.ok(net.isCut('a', 'b') && net.isCut('b', 'a') && net.isCut('c', 'a'));
    assert.ok(net.isCut('b', 'c') && !net.isCut('c', 'b'), 'one-way');
    assert.deepEqual(net.route('a', 'c', 0), { delivered: false, reason: 'partition' });
    net.heal('p1');
    assert.ok(!net.isCut('a', 'b') && net.isCut('b', 'c'));
    net.healAll();
    assert.equal(net.activeCutCount, 0);
  });

  test('drops, duplicates and delays as its conditions say, and a spell overrides them for a while', () => {
    const net = new SimNetwork(createPrng(4), { ...CALM_NETWORK, maxDelayMs: 10 });
    let delivered = 0;
    for (let i = 0; i < 200; i++) {
      const r = net.route('a', 'b', 1000);
      assert.ok(r.delivered);
      delivered += r.deliverAtMs.length;
      for (const at of r.deliverAtMs) assert.ok(at >= 1001 && at <= 1010, `delay ${at - 1000}`);
    }
    assert.equal(delivered, 200);
    net.startSpell({ ...CALM_NETWORK, dropRate: 1 }, 2000);
    assert.deepEqual(net.route('a', 'b', 1500), { delivered: false, reason: 'loss' });
    assert.ok(net.route('a', 'b', 2000).delivered, 'the spell is over');
    net.setBaseConditions({ ...CALM_NETWORK, duplicateRate: 1 });
    const dup = net.route('a', 'b', 3000);
    assert.ok(dup.delivered && dup.deliverAtMs.length === 2);
  });
});

describe('kv machine', () => {
  const put = (opId: number, key: string, value: string): Uint8Array => encodeCommand({ opId, clientId: 1, kind: 'put', key, value });
  const at = (index: number, data: Uint8Array): Entry => ({ index, term: 1, type: 'normal', data });

  test('an operation id takes effect once: a duplicate reports the first result and changes nothing', () => {
    const kv = KvMachine.fromSnapshot(1, new Uint8Array());
    assert.deepEqual(kv.apply(at(2, put(7, 'k', 'v1'))), { opId: 7, output: null, index: 2, term: 1, duplicate: false });
    kv.apply(at(3, put(8, 'k', 'v2')));
    assert.deepEqual(kv.apply(at(4, put(7, 'k', 'v1'))), { opId: 7, output: null, index: 2, term: 1, duplicate: true });
    assert.equal(kv.get('k'), 'v2');
    const cas = encodeCommand({ opId: 9, clientId: 1, kind: 'cas', key: 'k', expected: 'v2', value: 'v3' });
    assert.equal(kv.apply(at(5, cas))?.output, true);
    assert.equal(kv.get('k'), 'v3');
  });

  test('a snapshot image restores data, dedup table and chain hash', () => {
    const kv = KvMachine.fromSnapshot(1, new Uint8Array());
    kv.apply(at(2, put(1, 'a', 'x')));
    const copy = KvMachine.fromSnapshot(2, kv.snapshotImage());
    assert.equal(copy.get('a'), 'x');
    assert.equal(copy.chainHash, kv.chainHash);
    assert.equal(copy.apply(at(3, put(1, 'a', 'x')))?.duplicate, true);
    assert.throws(() => KvMachine.fromSnapshot(3, kv.snapshotImage()), /snapshot image of index 2 installed at 3/);
  });
});
