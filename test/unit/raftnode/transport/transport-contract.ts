// The contract every Transport implementation must pass (MemoryTransport, TcpTransport).
// Usage: transportContract('MemoryTransport', makeCluster), where makeCluster builds transports
// that are not started yet, with addresses known in advance.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeId } from '../../../../src/raft/types.ts';
import type { Transport, TransportLimits } from '../../../../src/raftnode/transport/index.ts';
import { everyShape, message, numbered, record, settle } from './helpers.ts';
import { waitFor } from '../../../lib/wait.ts';

export interface ClusterOptions {
  limits?: Partial<TransportLimits>;
  /** Per node; absent: no cluster id. */
  clusterIds?: Record<NodeId, string>;
}

export interface ClusterUnderTest {
  /** Built, not started. */
  transports: Record<NodeId, Transport>;
  /** The address a node can be dialed at, known before it starts. */
  addressOf(id: NodeId): string;
  /** Stops every transport and frees what the cluster holds. */
  close(): Promise<void>;
}

export type MakeCluster = (ids: NodeId[], options?: ClusterOptions) => Promise<ClusterUnderTest>;

export function transportContract(name: string, makeCluster: MakeCluster): void {
  describe(`Transport contract: ${name}`, () => {
    async function withCluster(ids: NodeId[], options: ClusterOptions, body: (cluster: ClusterUnderTest, t: Record<NodeId, Transport>) => Promise<void>): Promise<void> {
      const cluster = await makeCluster(ids, options);
      try {
        await body(cluster, cluster.transports);
      } finally {
        await cluster.close();
      }
    }

    function get(transports: Record<NodeId, Transport>, id: NodeId): Transport {
      const transport = transports[id];
      assert.ok(transport, `no transport ${id}`);
      return transport;
    }

    /** Two started transports, a knowing b and b knowing a. */
    async function connectedPair(cluster: ClusterUnderTest): Promise<{ a: Transport; b: Transport }> {
      const a = get(cluster.transports, 'a');
      const b = get(cluster.transports, 'b');
      await a.start();
      await b.start();
      a.addPeer('b', cluster.addressOf('b'));
      b.addPeer('a', cluster.addressOf('a'));
      return { a, b };
    }

    test('every field of every message shape arrives intact, Uint8Arrays as Uint8Arrays', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        const sent = everyShape('a', 'b');
        a.send(sent);
        await waitFor('all messages at b', () => atB.messages.length === sent.length);
        assert.deepStrictEqual(atB.messages, sent);
        for (const received of atB.messages) {
          for (const entry of received.entries) assert.equal(Object.getPrototypeOf(entry.data), Uint8Array.prototype);
          if (received.context) assert.equal(Object.getPrototypeOf(received.context), Uint8Array.prototype);
        }
        assert.equal(b.stats().inbound.receivedMessages, sent.length);
      });
    });

    test('the receiver gets copies, not the objects that were sent', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        const sent = message('a', 'b', { entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array([1]) }] });
        a.send([sent]);
        await waitFor('message at b', () => atB.messages.length === 1);
        const entry = sent.entries[0];
        assert.ok(entry);
        entry.data[0] = 99;
        assert.deepStrictEqual(atB.messages[0]?.entries[0]?.data, new Uint8Array([1]));
      });
    });

    test('order is preserved across many sends and turns of the event loop', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        for (let round = 0; round < 20; round++) {
          for (let i = 0; i < 25; i++) a.send(numbered('a', 'b', round * 25 + i, 1));
          if (round % 3 === 0) await settle(1);
        }
        await waitFor('500 messages at b', () => atB.messages.length === 500);
        assert.deepStrictEqual(
          atB.messages.map((m) => m.index),
          Array.from({ length: 500 }, (_, i) => i),
        );
      });
    });

    test('messages queued in one turn of the event loop go out as one batch', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        a.send(numbered('a', 'b', 0, 1));
        await waitFor('first message at b', () => atB.messages.length === 1);
        const framesBefore = a.stats().peers.b?.sentFrames ?? 0;
        for (const one of numbered('a', 'b', 1, 50)) a.send([one]);
        await waitFor('50 more at b', () => atB.messages.length === 51);
        assert.deepStrictEqual(
          atB.batches.map((batch) => batch.length),
          [1, 50],
        );
        assert.equal((a.stats().peers.b?.sentFrames ?? 0) - framesBefore, 1);
        assert.equal(a.stats().peers.b?.sentMessages, 51);
      });
    });

    test('a batch larger than maxFrameBytes is split into several frames, in order', async () => {
      await withCluster(['a', 'b'], { limits: { maxFrameBytes: 4096 } }, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        const sent = Array.from({ length: 12 }, (_, i) =>
          message('a', 'b', { index: i, entries: [{ term: 1, index: i + 1, type: 'normal', data: new Uint8Array(1000).fill(i) }] }),
        );
        a.send(sent);
        await waitFor('12 messages at b', () => atB.messages.length === 12);
        assert.deepStrictEqual(atB.messages, sent);
        const stats = a.stats().peers.b;
        assert.ok(stats && stats.sentFrames >= 3, `expected at least 3 frames, got ${stats?.sentFrames}`);
        assert.ok(stats.sentBytes <= stats.sentFrames * 4096);
      });
    });

    test('a message larger than a frame is dropped, counted and reported; later ones still flow', async () => {
      await withCluster(['a', 'b'], { limits: { maxFrameBytes: 4096 } }, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atA = record(a);
        const atB = record(b);
        const hugeSnapshot = message('a', 'b', {
          type: 'snap',
          snapshot: { metadata: { index: 5, term: 1, confState: { voters: ['a', 'b'], learners: [] } }, data: new Uint8Array(10_000) },
        });
        a.send([hugeSnapshot, ...numbered('a', 'b', 1, 1)]);
        await waitFor('the small message at b', () => atB.messages.length === 1);
        assert.equal(atB.messages[0]?.index, 1);
        assert.equal(a.stats().peers.b?.droppedTooLargeMessages, 1);
        assert.deepStrictEqual(atA.snapshotReports, [{ peer: 'b', ok: false }]);
      });
    });

    test('a snapshot message that is sent is reported ok', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atA = record(a);
        const atB = record(b);
        a.send(everyShape('a', 'b').filter((m) => m.type === 'snap'));
        await waitFor('snapshot at b', () => atB.messages.length === 1);
        await waitFor('snapshot reported', () => atA.snapshotReports.length === 1);
        assert.deepStrictEqual(atA.snapshotReports, [{ peer: 'b', ok: true }]);
      });
    });

    test('messages sent before start() go out once started', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const a = get(cluster.transports, 'a');
        const b = get(cluster.transports, 'b');
        const atB = record(b);
        await b.start();
        a.addPeer('b', cluster.addressOf('b'));
        a.send(numbered('a', 'b', 1, 3));
        assert.equal(a.stats().peers.b?.queuedMessages, 3);
        await a.start();
        await waitFor('three messages at b', () => atB.messages.length === 3);
      });
    });

    test('messages for a node that is not a peer are dropped and counted', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        a.send([message('a', 'zz'), ...numbered('a', 'b', 1, 1), message('a', 'yy')]);
        await waitFor('the message for b', () => atB.messages.length === 1);
        assert.equal(a.stats().droppedUnknownPeerMessages, 2);
        assert.equal(a.stats().peers.zz, undefined);
      });
    });

    test('removePeer stops delivery; adding the peer again resumes it', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        a.send(numbered('a', 'b', 1, 1));
        await waitFor('first message at b', () => atB.messages.length === 1);
        a.removePeer('b');
        assert.equal(a.stats().peers.b, undefined);
        a.send(numbered('a', 'b', 2, 1));
        assert.equal(a.stats().droppedUnknownPeerMessages, 1);
        a.addPeer('b', cluster.addressOf('b'));
        a.send(numbered('a', 'b', 3, 1));
        await waitFor('third message at b', () => atB.messages.length === 2);
        assert.deepStrictEqual(
          atB.messages.map((m) => m.index),
          [1, 3],
        );
      });
    });

    test('addPeer is idempotent and updatePeer keeps the queue', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atB = record(b);
        a.addPeer('b', cluster.addressOf('b'));
        a.updatePeer('b', cluster.addressOf('b'));
        a.send(numbered('a', 'b', 1, 3));
        await waitFor('three messages at b', () => atB.messages.length === 3);
        assert.deepStrictEqual(Object.keys(a.stats().peers), ['b']);
      });
    });

    test('while a peer is down its queue stays bounded (oldest dropped); it is reported unreachable; delivery starts when it comes up', async () => {
      await withCluster(['a', 'b'], { limits: { maxQueuedMessages: 10 } }, async (cluster) => {
        const a = get(cluster.transports, 'a');
        const b = get(cluster.transports, 'b');
        const atA = record(a);
        const atB = record(b);
        await a.start();
        a.addPeer('b', cluster.addressOf('b'));
        a.send(numbered('a', 'b', 1, 1));
        await waitFor('b reported unreachable', () => atA.unreachable.includes('b'));
        assert.equal(a.stats().peers.b?.connected, false);
        assert.ok(a.stats().peers.b?.lastError, 'lastError says why');
        a.send(numbered('a', 'b', 2, 24));
        const down = a.stats().peers.b;
        assert.equal(down?.queuedMessages, 10);
        assert.equal(down?.droppedQueueFullMessages, 15);
        await b.start();
        await waitFor('the queued tail at b', () => atB.messages.length === 10);
        assert.deepStrictEqual(
          atB.messages.map((m) => m.index),
          Array.from({ length: 10 }, (_, i) => 16 + i),
        );
        await waitFor('connected', () => a.stats().peers.b?.connected === true);
        assert.equal(a.stats().peers.b?.lastError, null);
      });
    });

    test('the byte bound of the queue holds too', async () => {
      await withCluster(['a', 'b'], { limits: { maxQueuedBytes: 20_000 } }, async (cluster) => {
        const a = get(cluster.transports, 'a');
        await a.start();
        a.addPeer('b', cluster.addressOf('b'));
        const big = (i: number) => message('a', 'b', { index: i, entries: [{ term: 1, index: i, type: 'normal', data: new Uint8Array(3000) }] });
        a.send(Array.from({ length: 20 }, (_, i) => big(i)));
        const stats = a.stats().peers.b;
        assert.ok(stats);
        assert.ok(stats.queuedBytes <= 20_000, `queued ${stats.queuedBytes} bytes`);
        assert.equal(stats.queuedMessages + stats.droppedQueueFullMessages, 20);
        assert.ok(stats.droppedQueueFullMessages >= 13);
      });
    });

    test('a node of another cluster is refused at the handshake', async () => {
      await withCluster(['a', 'b'], { clusterIds: { a: 'cluster-one', b: 'cluster-two' } }, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atA = record(a);
        const atB = record(b);
        a.send(numbered('a', 'b', 1, 1));
        await waitFor('b reported unreachable', () => atA.unreachable.includes('b'));
        assert.match(a.stats().peers.b?.lastError ?? '', /cluster/);
        assert.equal(a.stats().peers.b?.connected, false);
        assert.equal(atB.messages.length, 0);
        assert.ok(b.stats().inbound.rejectedConnections >= 1);
      });
    });

    test('a peer address where another node answers is refused (stale address)', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atA = record(a);
        const atB = record(b);
        a.addPeer('c', cluster.addressOf('b'));
        a.send([message('a', 'c')]);
        await waitFor('c reported unreachable', () => atA.unreachable.includes('c'));
        assert.match(a.stats().peers.c?.lastError ?? '', /this is node b/);
        assert.equal(atB.messages.length, 0);
      });
    });

    test('a handler that throws does not break the transport', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const seen: number[] = [];
        b.setHandlers({
          onMessages: (messages) => {
            for (const m of messages) seen.push(m.index);
            throw new Error('handler failure');
          },
        });
        a.send(numbered('a', 'b', 1, 1));
        await waitFor('first message seen', () => seen.length === 1);
        a.send(numbered('a', 'b', 2, 1));
        await waitFor('second message seen', () => seen.length === 2);
        assert.deepStrictEqual(seen, [1, 2]);
      });
    });

    test('stop() closes everything: peers see it as unreachable, sends after it are ignored, it is idempotent', async () => {
      await withCluster(['a', 'b'], {}, async (cluster) => {
        const { a, b } = await connectedPair(cluster);
        const atA = record(a);
        const atB = record(b);
        b.send(numbered('b', 'a', 1, 1));
        await waitFor('message at a', () => atA.messages.length === 1);
        await a.stop();
        await a.stop();
        assert.deepStrictEqual(a.stats().peers, {});
        assert.equal(a.stats().inbound.openConnections, 0);
        a.send(numbered('a', 'b', 1, 1));
        b.send(numbered('b', 'a', 2, 1));
        await waitFor('b sees a unreachable', () => atB.unreachable.includes('a'));
        await settle();
        assert.equal(atA.messages.length, 1);
        assert.equal(atB.messages.length, 0);
        assert.equal(atA.unreachable.length, 0, 'a stopped: nothing is reported after stop()');
      });
    });
  });
}
