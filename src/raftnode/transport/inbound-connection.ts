// One accepted connection: the handshake, then batches of messages. Anything malformed closes
// this connection only, with a log line saying why; the listener and other connections go on.

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../../raft/types.ts';
import { decodeBody, encodeHelloReply, type Hello } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { encodeFrame, type Frame, FrameDecoder } from './frame.ts';
import type { InboundStats } from './types.ts';
import { parseBatch, parseHello } from './validate.ts';

export interface InboundConnectionOptions {
  self: NodeId;
  clusterId: string | undefined;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  logger: Logger;
  /** Shared, mutable counters of the transport. */
  stats: InboundStats;
  deliver: (messages: Message[], from: NodeId) => void;
  /** The handshake succeeded: `from` is now this connection's peer. */
  accepted: (connection: InboundConnection, from: NodeId) => void;
  closed: (connection: InboundConnection) => void;
  /** Why a peer claiming `claimed` may not use this socket (its certificate names another node), or null. */
  verifyPeer?: (claimed: NodeId, socket: Socket) => string | null;
  /** Why this socket may not be a peer at all (its certificate is not a node's), or null: asked before any hello. */
  verifyCertificate?: (socket: Socket) => string | null;
}

/**
 * After refusing a connection, what the sender still writes is read and dropped for this long or
 * this many bytes (a lingering close, as nginx does), so the refusal reaches it instead of a reset.
 */
const LINGER_MS = 5_000;
const LINGER_MAX_BYTES = 64 * 1024 * 1024;

export class InboundConnection {
  readonly #o: InboundConnectionOptions;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #remote: string;
  #peer: NodeId | null = null;
  #handshakeTimer: NodeJS.Timeout | null;
  #done = false;
  #closedOnce = false;
  /** Bytes dropped since the connection was refused. */
  #lingered = 0;

  constructor(socket: Socket, options: InboundConnectionOptions) {
    this.#o = options;
    this.#socket = socket;
    this.#remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#decoder = new FrameDecoder(options.maxFrameBytes);
    options.stats.openConnections++;
    options.stats.acceptedConnections++;
    socket.setNoDelay(true);
    // Also bounds a refused connection whose peer never closes its side.
    this.#handshakeTimer = setTimeout(() => {
      this.#reject(new ProtocolError('handshakeTimeout', `no handshake within ${options.handshakeTimeoutMs} ms`));
    }, options.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: Error) => {
      this.#o.logger.debug({ remote: this.#remote, peer: this.#peer, err: error.message }, 'inbound peer connection failed');
    });
    socket.on('close', () => this.#closed());
    const refusal = options.verifyCertificate?.(socket) ?? null;
    if (refusal !== null) this.#refuse(refusal, null);
  }

  get peer(): NodeId | null {
    return this.#peer;
  }

  /** Closes without blame: stop(), or a newer connection from the same peer replaced this one. */
  close(): void {
    this.#socket.destroy();
    this.#closed();
  }

  #onData(chunk: Buffer): void {
    if (this.#done) {
      this.#lingered += chunk.byteLength;
      if (this.#lingered > LINGER_MAX_BYTES) this.#socket.destroy();
      return;
    }
    this.#o.stats.receivedBytes += chunk.byteLength;
    const { frames, error } = this.#decoder.push(chunk);
    try {
      for (const frame of frames) {
        if (this.#done) return;
        this.#onFrame(frame);
      }
      if (error) throw error;
    } catch (caught) {
      this.#reject(caught instanceof ProtocolError ? caught : new ProtocolError('badShape', String(caught)));
    }
  }

  #onFrame(frame: Frame): void {
    const value = decodeBody(frame.body);
    if (this.#peer === null) {
      this.#onHello(parseHello(value));
      return;
    }
    const batch = parseBatch(value);
    const peer = this.#peer;
    if (batch.from !== peer) throw new ProtocolError('badShape', `batch.from is ${batch.from} but the connection belongs to ${peer}`);
    if ((batch.clusterId ?? null) !== (this.#o.clusterId ?? null)) {
      throw new ProtocolError('badShape', `batch.clusterId ${String(batch.clusterId)} differs from this cluster's ${String(this.#o.clusterId)}`);
    }
    batch.messages.forEach((message, i) => {
      if (message.from !== peer) throw new ProtocolError('badShape', `batch.messages[${i}].from is ${message.from} but the connection belongs to ${peer}`);
      if (message.to !== this.#o.self) throw new ProtocolError('badShape', `batch.messages[${i}].to is ${message.to}, not this node (${this.#o.self})`);
    });
    this.#o.stats.receivedFrames++;
    this.#o.stats.receivedMessages += batch.messages.length;
    this.#o.deliver(batch.messages, peer);
  }

  #onHello(hello: Hello): void {
    const refusal = this.#refusalOf(hello);
    if (refusal !== null) {
      this.#refuse(refusal, hello.from);
      return;
    }
    this.#clearHandshakeTimer();
    this.#peer = hello.from;
    this.#socket.write(encodeFrame([encodeHelloReply({ kind: 'welcome', nodeId: this.#o.self })]));
    this.#o.logger.debug({ remote: this.#remote, peer: hello.from }, 'accepted a peer connection');
    this.#o.accepted(this, hello.from);
  }

  /** Refuses the connection, logged with the reason; the dialer is told, then the socket closes. */
  #refuse(refusal: string, from: NodeId | null): void {
    this.#o.logger.warn({ remote: this.#remote, from, reason: 'handshakeRefused', err: refusal }, `refused a peer connection: ${refusal}`);
    this.#o.stats.rejectedConnections++;
    this.#done = true;
    this.#clearHandshakeTimer();
    this.#endTelling(refusal);
    // A dialer that never closes its side is cut after the linger.
    const linger = setTimeout(() => this.#socket.destroy(), LINGER_MS);
    this.#socket.once('close', () => clearTimeout(linger));
  }

  #refusalOf(hello: Hello): string | null {
    const ours = this.#o.clusterId ?? null;
    if (hello.clusterId !== ours) {
      return `cluster id mismatch: the peer ${hello.from} belongs to ${hello.clusterId === null ? 'no cluster' : `cluster ${hello.clusterId}`}, this node to ${ours === null ? 'no cluster' : `cluster ${ours}`}`;
    }
    if (hello.to !== this.#o.self) return `the peer ${hello.from} dialed node ${hello.to}, but this is node ${this.#o.self} (stale address?)`;
    if (hello.from === this.#o.self) return `the peer claims this node's own id ${hello.from} (two nodes with one id?)`;
    const identity = this.#o.verifyPeer?.(hello.from, this.#socket) ?? null;
    if (identity !== null) return identity;
    return null;
  }

  #reject(error: ProtocolError): void {
    if (this.#done) {
      // Refused already and still open: the lingering ends here.
      this.#socket.destroy();
      return;
    }
    this.#o.stats.rejectedConnections++;
    this.#o.logger.warn({ remote: this.#remote, peer: this.#peer, reason: error.reason, err: error.message }, `closed a peer connection: ${error.message}`);
    this.#done = true;
    this.#clearHandshakeTimer();
    this.#endTelling(`${error.reason}: ${error.message}`);
    const linger = setTimeout(() => this.#socket.destroy(), LINGER_MS);
    this.#socket.once('close', () => clearTimeout(linger));
  }

  /** Tells the dialer why in a `refused` reply, then closes our side; its bytes are dropped meanwhile. */
  #endTelling(reason: string): void {
    this.#socket.end(encodeFrame([encodeHelloReply({ kind: 'refused', reason })]));
  }

  #closed(): void {
    this.#clearHandshakeTimer();
    if (this.#closedOnce) return;
    this.#closedOnce = true;
    this.#done = true;
    this.#o.stats.openConnections--;
    this.#o.closed(this);
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }
}
