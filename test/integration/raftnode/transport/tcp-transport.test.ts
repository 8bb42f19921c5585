// TcpTransport on real sockets (127.0.0.1 only): stream decoding, malformed input from a raw
// socket, handshake refusals, a peer that goes down and comes back, a peer that stops reading.

import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { decode, encode } from 'cbor-x';
import type { Message, NodeId } from '../../../../src/raft/types.ts';
import { BatchEncoder, encodeHello, encodeHelloReply, encodeMessage } from '../../../../src/raftnode/transport/codec.ts';
import { encodeFrame, FrameDecoder } from '../../../../src/raftnode/transport/frame.ts';
import { TcpTransport, type TcpTransportOptions } from '../../../../src/raftnode/transport/index.ts';
import { freePort } from '../../../lib/ports.ts';
import { capturingLogger, everyShape, type LogLine, message, numbered, record, settle, silentLogger } from '../../../unit/raftnode/transport/helpers.ts';
import { waitFor } from '../../../lib/wait.ts';

const transports: TcpTransport[] = [];
const sockets: Socket[] = [];
const servers: Server[] = [];

after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const transport of transports) await transport.stop();
});

async function node(id: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
  const transport = new TcpTransport({ id, listenAddress: '127.0.0.1:0', logger: silentLogger, reconnectBackoffBaseMs: 10, reconnectBackoffMaxMs: 50, ...options });
  transports.push(transport);
  await transport.start();
  return transport;
}

/** A hand-driven client socket, for bytes no TcpTransport would send. */
class RawPeer {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  readonly received: Buffer[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    sockets.push(socket);
    socket.on('data', (chunk: Buffer) => this.received.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static async connect(address: string): Promise<RawPeer> {
    const [host, port] = address.split(':');
    const socket = connect({ host: host ?? '', port: Number(port) });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPeer(socket);
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }
}

function hello(from: NodeId, to: NodeId, clusterId: string | null = null): Buffer {
  return encodeFrame([encodeHello({ kind: 'hello', from, to, clusterId })]);
}

function batch(from: NodeId, messages: Message[]): Buffer {
  return encodeFrame(new BatchEncoder(from, undefined).bodyParts(messages.map(encodeMessage)));
}

function rawFrame(version: number, body: Uint8Array): Buffer {
  return encodeFrame([body], version);
}

/** The hello replies a raw peer received, decoded. */
function repliesOf(raw: RawPeer): unknown[] {
  const { frames, error } = new FrameDecoder(1024 * 1024).push(Buffer.concat(raw.received));
  assert.equal(error, null, 'the node answered in well-formed frames');
  return frames.map((frame) => decode(frame.body) as unknown);
}

function linesWith(lines: LogLine[], fields: Record<string, unknown>): LogLine[] {
  return lines.filter((line) => Object.entries(fields).every(([key, value]) => (value instanceof RegExp ? value.test(String(line[key])) : line[key] === value)));
}

describe('TcpTransport on real sockets', () => {
  test('a handshake and batches written one byte at a time are decoded', async () => {
    const b = await node('b');
    const atB = record(b);
    const raw = await RawPeer.connect(b.address());
    const stream = Buffer.concat([hello('x', 'b'), batch('x', numbered('x', 'b', 1, 2)), batch('x', everyShape('x', 'b')), batch('x', numbered('x', 'b', 3, 1))]);
    for (const byte of stream) {
      await raw.write(Buffer.from([byte]));
      await settle(1);
    }
    await waitFor('three batches at b', () => atB.batches.length === 3);
    assert.deepStrictEqual(atB.messages, [...numbered('x', 'b', 1, 2), ...everyShape('x', 'b'), ...numbered('x', 'b', 3, 1)]);
    assert.equal(b.stats().inbound.receivedFrames, 3);
    raw.socket.destroy();
  });

  test('a handshake and many batches coalesced into one write are decoded', async () => {
    const b = await node('b');
    const atB = record(b);
    const raw = await RawPeer.connect(b.address());
    const frames = Array.from({ length: 40 }, (_, i) => batch('x', numbered('x', 'b', i * 3, 3)));
    await raw.write(Buffer.concat([hello('x', 'b'), ...frames]));
    await waitFor('120 messages at b', () => atB.messages.length === 120);
    assert.deepStrictEqual(
      atB.messages.map((m) => m.index),
      Array.from({ length: 120 }, (_, i) => i),
    );
    assert.equal(atB.batches.length, 40);
    raw.socket.destroy();
  });

  describe('malformed input closes only that connection, with a logged reason', () => {
    const badCbor = Buffer.from([0xff, 0xfe, 0x1c, 0x00]);
    const cases: Array<{ name: string; bytes: () => Buffer; reason: string; says: RegExp }> = [
      { name: 'an HTTP request instead of a handshake', bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: b\r\n\r\n'), reason: 'frameTooLarge', says: /exceeds maxFrameBytes/ },
      { name: 'CBOR garbage as the handshake', bytes: () => rawFrame(1, badCbor), reason: 'badCbor', says: /not one well-formed CBOR item/ },
      { name: 'CBOR garbage after the handshake', bytes: () => Buffer.concat([hello('x', 'b'), rawFrame(1, badCbor)]), reason: 'badCbor', says: /not one well-formed CBOR item/ },
      { name: 'an oversized length prefix', bytes: () => Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), reason: 'frameTooLarge', says: /exceeds maxFrameBytes/ },
      { name: 'a length too small for a frame', bytes: () => Buffer.from([0, 0, 0, 1, 1]), reason: 'badLength', says: /too small/ },
      { name: 'an unknown version byte', bytes: () => rawFrame(7, encodeHello({ kind: 'hello', from: 'x', to: 'b', clusterId: null })), reason: 'unknownVersion', says: /version 7 is not supported/ },
      { name: 'valid CBOR of the wrong shape as the handshake', bytes: () => rawFrame(1, encode([1, 2, 3])), reason: 'badShape', says: /hello is not a map/ },
      {
        name: 'valid CBOR of the wrong shape as a batch',
        bytes: () => Buffer.concat([hello('x', 'b'), rawFrame(1, encode({ from: 'x', messages: [{ type: 'bogus' }] }))]),
        reason: 'badShape',
        says: /batch\.messages\[0\]\.type is not one of/,
      },
      { name: 'a batch with another sender', bytes: () => Buffer.concat([hello('x', 'b'), batch('y', numbered('y', 'b', 1, 1))]), reason: 'badShape', says: /belongs to x/ },
      { name: 'a batch for another node', bytes: () => Buffer.concat([hello('x', 'b'), batch('x', numbered('x', 'c', 1, 1))]), reason: 'badShape', says: /not this node/ },
    ];

    for (const bad of cases) {
      test(bad.name, async () => {
        const { logger, lines } = capturingLogger();
        const b = await node('b', { logger });
        const a = await node('a');
        const atB = record(b);
        // A healthy peer connection that must survive the bad one.
        a.addPeer('b', b.address());
        a.send(numbered('a', 'b', 1, 1));
        await waitFor('a connected to b', () => atB.messages.length === 1);

        const raw = await RawPeer.connect(b.address());
        await raw.write(bad.bytes());
        await raw.closed;
        await waitFor('the reason is logged', () => linesWith(lines, { reason: bad.reason }).length === 1);
        const [line] = linesWith(lines, { reason: bad.reason });
        assert.ok(line);
        assert.match(line.msg, /^closed a peer connection: /);
        assert.match(line.msg, bad.says);
        assert.equal(line.level, 40, 'logged as a warning');
        assert.equal(b.stats().inbound.rejectedConnections, 1);
        // The sender is told why before the close, in a refused reply (after a welcome, if it said hello).
        const last = repliesOf(raw).at(-1) as { kind: string; reason: string };
        assert.equal(last.kind, 'refused');
        assert.ok(last.reason.startsWith(`${bad.reason}: `), last.reason);
        assert.match(last.reason, bad.says);

        // The listener still serves: the old connection delivers, a new one is accepted.
        a.send(numbered('a', 'b', 2, 1));
        await waitFor('second message over the old connection', () => atB.messages.length === 2);
        assert.equal(a.stats().peers.b?.connectAttempts, 1, 'the healthy connection was not disturbed');
        const good = await RawPeer.connect(b.address());
        await good.write(Buffer.concat([hello('y', 'b'), batch('y', numbered('y', 'b', 3, 1))]));
        await waitFor('message over a new connection', () => atB.messages.length === 3);
        assert.deepStrictEqual(
          atB.messages.map((m) => [m.from, m.index]),
          [
            ['a', 1],
            ['a', 2],
            ['y', 3],
          ],
        );
        good.socket.destroy();
        await a.stop();
        await b.stop();
      });
    }
  });

  test('an oversized frame streamed in full: the sender finishes its write and reads the refusal; the listener serves on', async () => {
    const maxFrameBytes = 1024 * 1024;
    const b = await node('b', { maxFrameBytes });
    const atB = record(b);
    const raw = await RawPeer.connect(b.address());
    // 8 MiB: far more than the socket buffers hold, so the node refuses it while it still streams.
    const written = new Promise<Error | null | undefined>((resolve) => raw.socket.write(Buffer.concat([hello('x', 'b'), rawFrame(1, Buffer.alloc(8 * maxFrameBytes, 0x5a))]), resolve));
    raw.socket.end();
    assert.equal(await written, null, 'the whole frame was written: no EPIPE or reset');
    await raw.closed;
    const replies = repliesOf(raw) as { kind: string; reason?: string }[];
    assert.deepEqual(
      replies.map((reply) => reply.kind),
      ['welcome', 'refused'],
    );
    assert.match(replies[1]?.reason ?? '', /^frameTooLarge: frame of \d+ bytes exceeds maxFrameBytes 1048576/);
    const good = await RawPeer.connect(b.address());
    await good.write(Buffer.concat([hello('y', 'b'), batch('y', numbered('y', 'b', 1, 1))]));
    await waitFor('a message over a new connection', () => atB.messages.length === 1);
    good.socket.destroy();
    await b.stop();
  });

  test('a frame the peer refuses after the handshake: the dialer logs the peer\'s reason', async () => {
    const aLog = capturingLogger();
    // b takes frames of at most 64 KiB; a sends larger ones (a version with another limit).
    const b = await node('b', { maxFrameBytes: 64 * 1024 });
    const a = await node('a', { logger: aLog.logger });
    a.addPeer('b', b.address());
    a.send([message('a', 'b', { entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(256 * 1024) }] })]);
    await waitFor('a logged the refusal', () => linesWith(aLog.lines, { msg: /the peer refused our frames: frameTooLarge: frame of \d+ bytes exceeds maxFrameBytes 65536/ }).length >= 1);
    await a.stop();
    await b.stop();
  });

  test('a connection that never sends its handshake is closed after handshakeTimeoutMs', async () => {
    const { logger, lines } = capturingLogger();
    const b = await node('b', { logger, handshakeTimeoutMs: 100 });
    const raw = await RawPeer.connect(b.address());
    await raw.closed;
    await waitFor('logged', () => linesWith(lines, { reason: 'handshakeTimeout' }).length === 1);
    await waitFor('the server side is closed too', () => b.stats().inbound.openConnections === 0);
    assert.equal(b.stats().inbound.rejectedConnections, 1);
    await b.stop();
  });

  test('a handshake with a wrong cluster id is refused, with the reason logged on both sides', async () => {
    const bLog = capturingLogger();
    const aLog = capturingLogger();
    const b = await node('b', { clusterId: 'kitchen', logger: bLog.logger });
    const a = await node('a', { clusterId: 'garage', logger: aLog.logger });
    const atA = record(a);
    const atB = record(b);
    a.addPeer('b', b.address());
    a.send(numbered('a', 'b', 1, 1));
    await waitFor('refusal seen by a', () => atA.unreachable.length > 0);
    const refusal = linesWith(bLog.lines, { reason: 'handshakeRefused' })[0];
    assert.ok(refusal);
    assert.match(refusal.msg, /refused a peer connection: cluster id mismatch: the peer a belongs to cluster garage, this node to cluster kitchen/);
    assert.match(a.stats().peers.b?.lastError ?? '', /^the peer refused the handshake: cluster id mismatch/);
    assert.ok(linesWith(aLog.lines, { msg: /^cannot connect to peer: the peer refused the handshake/ }).length >= 1);
    assert.equal(atB.messages.length, 0);
    // A node without a cluster id is refused by a node with one, too.
    const raw = await RawPeer.connect(b.address());
    await raw.write(hello('x', 'b', null));
    await raw.closed;
    assert.match(Buffer.concat(raw.received).toString('latin1'), /refused/);
    await a.stop();
    await b.stop();
  });

  test('a newer connection from the same peer replaces the older one', async () => {
    const b = await node('b');
    const atB = record(b);
    const first = await RawPeer.connect(b.address());
    await first.write(hello('x', 'b'));
    await waitFor('first accepted', () => first.received.length > 0);
    const second = await RawPeer.connect(b.address());
    await second.write(hello('x', 'b'));
    await first.closed;
    await second.write(batch('x', numbered('x', 'b', 1, 1)));
    await waitFor('delivered over the second', () => atB.messages.length === 1);
    assert.equal(b.stats().inbound.openConnections, 1);
    second.socket.destroy();
    await b.stop();
  });

  test('start() rejects when the port is taken; bad options fail at construction', async () => {
    const b = await node('b');
    const clash = new TcpTransport({ id: 'c', listenAddress: b.address(), logger: silentLogger });
    await assert.rejects(clash.start(), /EADDRINUSE/);
    await clash.stop();
    assert.throws(() => new TcpTransport({ id: 'c', listenAddress: 'nowhere', logger: silentLogger }), /listenAddress must be host:port/);
    assert.throws(() => new TcpTransport({ id: 'c', listenAddress: '127.0.0.1:0', logger: silentLogger, maxFrameBytes: 10 }), /maxFrameBytes must be at least/);
    assert.throws(() => new TcpTransport({ id: 'c', listenAddress: '127.0.0.1:0', logger: silentLogger, reconnectBackoffMaxMs: 5, reconnectBackoffBaseMs: 10 }), /reconnectBackoffMaxMs/);
    await b.stop();
  });

  test('an invalid peer address is reported, not thrown', async () => {
    const a = await node('a');
    const atA = record(a);
    a.addPeer('b', 'no-port-here');
    a.send([message('a', 'b')]);
    await waitFor('unreachable', () => atA.unreachable.includes('b'));
    assert.match(a.stats().peers.b?.lastError ?? '', /invalid peer address "no-port-here"/);
    await a.stop();
  });

  test('a peer that is down: the queue drops beyond its bound, reconnects back off, delivery resumes when it is back', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const { logger, lines } = capturingLogger();
    const a = await node('a', { logger, maxQueuedMessages: 8, reconnectBackoffBaseMs: 5, reconnectBackoffMaxMs: 40, random: () => 0.5 });
    const atA = record(a);
    const b1 = await node('b', { listenAddress: address });
    const atB1 = record(b1);
    a.addPeer('b', address);
    a.send(numbered('a', 'b', 1, 1));
    await waitFor('first delivery', () => atB1.messages.length === 1);

    await b1.stop();
    await waitFor('a notices b is gone', () => atA.unreachable.includes('b'));
    a.send(numbered('a', 'b', 2, 30));
    assert.equal(a.stats().peers.b?.droppedQueueFullMessages, 22);
    assert.equal(a.stats().peers.b?.queuedMessages, 8);
    // Several refused attempts while b is down; the queue is not consumed by them.
    // Repeats of one failure are logged once as a warning, then at debug level.
    await waitFor('a retried a few times', () => linesWith(lines, { level: 20, err: /ECONNREFUSED/ }).length >= 3);
    assert.equal(linesWith(lines, { level: 40, err: /ECONNREFUSED/ }).length, 1);
    assert.ok((a.stats().peers.b?.connectAttempts ?? 0) >= 5);
    assert.equal(a.stats().peers.b?.queuedMessages, 8);
    assert.match(a.stats().peers.b?.lastError ?? '', /ECONNREFUSED/);

    const b2 = await node('b', { listenAddress: address });
    const atB2 = record(b2);
    await waitFor('the queued tail arrives', () => atB2.messages.length === 8);
    assert.deepStrictEqual(
      atB2.messages.map((m) => m.index),
      Array.from({ length: 8 }, (_, i) => 24 + i),
    );
    a.send(numbered('a', 'b', 100, 1));
    await waitFor('new messages flow', () => atB2.messages.length === 9);
    const stats = a.stats().peers.b;
    assert.equal(stats?.connected, true);
    assert.equal(stats?.lastError, null);
    assert.equal(stats?.droppedQueueFullMessages, 22);
    assert.ok(linesWith(lines, { msg: 'connected to peer again' }).length >= 1);
    await a.stop();
    await b2.stop();
  });

  test('a peer that accepts but stops reading is given up after writeStallTimeoutMs', async () => {
    // A fake peer: answers the handshake, then never reads again.
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      const decoder = new FrameDecoder(16 * 1024 * 1024);
      socket.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk).frames.length > 0) {
          socket.write(encodeFrame([encodeHelloReply({ kind: 'welcome', nodeId: 'b' })]));
          socket.pause();
        }
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bound = server.address();
    assert.ok(bound && typeof bound === 'object');
    const a = await node('a', { writeStallTimeoutMs: 200, maxFrameBytes: 1024 * 1024, maxQueuedBytes: 64 * 1024 * 1024, reconnectBackoffBaseMs: 60_000, reconnectBackoffMaxMs: 60_000 });
    const atA = record(a);
    a.addPeer('b', `127.0.0.1:${bound.port}`);
    const chunk = new Uint8Array(512 * 1024);
    // 48 MiB: far more than loopback socket buffers hold.
    a.send(Array.from({ length: 96 }, (_, i) => message('a', 'b', { index: i, entries: [{ term: 1, index: i + 1, type: 'normal', data: chunk }] })));
    await waitFor('a gives up on b', () => atA.unreachable.includes('b'));
    assert.match(a.stats().peers.b?.lastError ?? '', /read nothing for 200 ms/);
    assert.equal(a.stats().peers.b?.connected, false);
    await a.stop();
  });
});
