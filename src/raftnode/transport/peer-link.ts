// The one outbound connection to one peer: dialed lazily when there is something to send, the
// handshake, batched writes, and reconnecting with back-off after any failure. Inbound
// connections only ever receive, so each direction between two nodes has its own connection.
//
//   idle --(messages queued)--> connecting --(welcome)--> open
//     ^                             |                      |
//     +--(timer; dials again when   +-----(any failure)----+--> backoff
//         something is queued)---------------------------------------+

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../../raft/types.ts';
import { parseHostPort } from './address.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { type BatchEncoder, decodeBody, encodeHello, type HelloReply } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { encodeFrame, FrameDecoder } from './frame.ts';
import { Outbox } from './outbox.ts';
import { dial, type TransportTlsOptions } from './sockets.ts';
import type { PeerStats, TransportHandlers, TransportLimits } from './types.ts';
import { parseHelloReply } from './validate.ts';

export interface PeerLinkOptions {
  self: NodeId;
  clusterId: string | undefined;
  peer: NodeId;
  address: string;
  limits: TransportLimits;
  batchEncoder: BatchEncoder;
  logger: Logger;
  tls: TransportTlsOptions | undefined;
  /** From dialing until the peer's welcome. */
  handshakeTimeoutMs: number;
  /** A peer that reads nothing for this long while we have data for it is treated as gone. */
  writeStallTimeoutMs: number;
  backoff: BackoffOptions;
  /** Null once the transport has stopped: nothing is reported after stop(). */
  handlers: () => TransportHandlers | null;
}

type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

const KEEPALIVE_INITIAL_DELAY_MS = 5_000;

export class PeerLink {
  readonly #o: PeerLinkOptions;
  readonly #outbox: Outbox;
  readonly #backoff: Backoff;
  #address: string;
  #state: LinkState = 'idle';
  #running = false;
  #socket: Socket | null = null;
  #handshakeTimer: NodeJS.Timeout | null = null;
  #stallTimer: NodeJS.Timeout | null = null;
  #backoffTimer: NodeJS.Timeout | null = null;
  #flushScheduled: NodeJS.Immediate | null = null;
  #connectAttempts = 0;
  #lastError: string | null = null;
  /** Repeats of the same failure (a peer that stays down) are logged at debug only. */
  #lastLoggedError: string | null = null;

  constructor(options: PeerLinkOptions) {
    this.#o = options;
    this.#address = options.address;
    this.#backoff = new Backoff(options.backoff);
    this.#outbox = new Outbox({
      peer: options.peer,
      limits: options.limits,
      batchEncoder: options.batchEncoder,
      logger: options.logger,
      reportSnapshot: (peer, ok) => options.handlers()?.reportSnapshot?.(peer, ok),
    });
  }

  get address(): string {
    return this.#address;
  }

  /** The transport is listening: queued messages may go. */
  start(): void {
    this.#running = true;
    this.#kick();
  }

  enqueue(message: Message): void {
    if (this.#state === 'closed') return;
    this.#outbox.enqueue(message);
    this.#kick();
  }

  /** Moves to a new address: the current connection (if any) is dropped, the queue kept. */
  setAddress(address: string): void {
    if (address === this.#address || this.#state === 'closed') return;
    this.#o.logger.info({ peer: this.#o.peer, from: this.#address, to: address }, 'peer address changed; reconnecting');
    this.#address = address;
    this.#dropConnection();
    this.#backoffTimer = cancel(this.#backoffTimer);
    this.#backoff.reset();
    this.#lastLoggedError = null;
    this.#state = 'idle';
    this.#kick();
  }

  /** For good: removePeer or stop. Queued messages are dropped. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#running = false;
    this.#dropConnection();
    this.#backoffTimer = cancel(this.#backoffTimer);
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = null;
    this.#outbox.discardAll();
  }

  stats(): PeerStats {
    return {
      address: this.#address,
      connected: this.#state === 'open',
      ...this.#outbox.stats(),
      connectAttempts: this.#connectAttempts,
      lastError: this.#lastError,
    };
  }

  #kick(): void {
    if (!this.#running || this.#outbox.isEmpty) return;
    if (this.#state === 'idle') this.#connect();
    else if (this.#state === 'open') this.#scheduleFlush();
    // connecting: flushed on welcome; backoff: the timer dials again.
  }

  #connect(): void {
    this.#connectAttempts++;
    const target = parseHostPort(this.#address);
    if (!target) {
      this.#failed(`invalid peer address "${this.#address}" (expected host:port)`, false);
      return;
    }
    this.#state = 'connecting';
    const decoder = new FrameDecoder(this.#o.limits.maxFrameBytes);
    const socket = dial(target, this.#o.tls, () => {
      if (socket !== this.#socket) return;
      socket.setNoDelay(true);
      socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
      const hello = encodeHello({ kind: 'hello', from: this.#o.self, to: this.#o.peer, clusterId: this.#o.clusterId ?? null });
      socket.write(encodeFrame([hello]));
    });
    this.#socket = socket;
    this.#handshakeTimer = setTimeout(() => {
      if (socket === this.#socket) this.#failed(`no handshake answer within ${this.#o.handshakeTimeoutMs} ms`, false);
    }, this.#o.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (socket === this.#socket) this.#onData(decoder, chunk);
    });
    socket.on('drain', () => {
      if (socket !== this.#socket) return;
      this.#stallTimer = cancel(this.#stallTimer);
      this.#flush();
    });
    socket.on('error', (error: Error) => {
      if (socket === this.#socket) this.#failed(error.message, this.#state === 'open');
    });
    socket.on('close', () => {
      if (socket !== this.#socket) return;
      const wasOpen = this.#state === 'open';
      this.#failed(wasOpen ? 'connection closed by the peer' : 'connection closed during the handshake', wasOpen);
    });
  }

  #onData(decoder: FrameDecoder, chunk: Buffer): void {
    const { frames, error } = decoder.push(chunk);
    try {
      for (const frame of frames) {
        const reply = this.#replyOf(frame.body);
        if (reply.kind === 'refused') {
          // Also after the handshake: the peer closes a connection whose frames it cannot take, saying why.
          const wasOpen = this.#state === 'open';
          this.#failed(`the peer refused ${wasOpen ? 'our frames' : 'the handshake'}: ${reply.reason}`, wasOpen);
          return;
        }
        if (this.#state !== 'connecting') throw new ProtocolError('unexpectedFrame', 'the peer sent a welcome after the handshake on an outbound connection');
        if (reply.nodeId !== this.#o.peer) throw new ProtocolError('handshakeRefused', `the node at ${this.#address} is ${reply.nodeId}, not ${this.#o.peer}`);
        this.#opened();
      }
      if (error) throw error;
    } catch (caught) {
      const reason = caught instanceof Error ? caught.message : String(caught);
      this.#failed(`protocol error from the peer: ${reason}`, this.#state === 'open');
    }
  }

  /** The peer only ever sends hello replies on our connection; anything else after the handshake is unexpected. */
  #replyOf(body: Buffer): HelloReply {
    try {
      return parseHelloReply(decodeBody(body));
    } catch (error) {
      if (this.#state === 'connecting') throw error;
      throw new ProtocolError('unexpectedFrame', 'the peer sent a frame after the handshake on an outbound connection');
    }
  }

  #opened(): void {
    this.#handshakeTimer = cancel(this.#handshakeTimer);
    this.#state = 'open';
    this.#backoff.reset();
    if (this.#lastError !== null) this.#o.logger.info({ peer: this.#o.peer, address: this.#address }, 'connected to peer again');
    this.#lastError = null;
    this.#lastLoggedError = null;
    this.#flush();
  }

  #scheduleFlush(): void {
    // Everything queued in this turn of the event loop goes out together.
    this.#flushScheduled ??= setImmediate(() => {
      this.#flushScheduled = null;
      this.#flush();
    });
  }

  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== 'open' || !socket) return;
    // Writing stops once the socket's buffer is full, so messages wait in the bounded queue (and
    // are batched there) instead of piling up unbounded inside the socket.
    while (!socket.writableNeedDrain) {
      const next = this.#outbox.nextFrame();
      if (!next) break;
      socket.write(next.frame, (error) => this.#outbox.settled(next.items, !error));
    }
    if (socket.writableNeedDrain && !this.#stallTimer) {
      this.#stallTimer = setTimeout(() => {
        if (socket === this.#socket) this.#failed(`the peer read nothing for ${this.#o.writeStallTimeoutMs} ms`, true);
      }, this.#o.writeStallTimeoutMs);
    }
  }

  #failed(reason: string, wasOpen: boolean): void {
    if (this.#state === 'closed') return;
    this.#dropConnection();
    this.#lastError = reason;
    const fields = { peer: this.#o.peer, address: this.#address, err: reason };
    const what = wasOpen ? 'lost the connection to peer' : 'cannot connect to peer';
    if (reason !== this.#lastLoggedError) this.#o.logger.warn(fields, `${what}: ${reason}`);
    else this.#o.logger.debug(fields, `${what}: ${reason}`);
    this.#lastLoggedError = reason;
    this.#state = 'backoff';
    const delayMs = this.#backoff.nextDelayMs();
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = null;
      if (this.#state !== 'backoff') return;
      this.#state = 'idle';
      this.#kick();
    }, delayMs);
    this.#o.handlers()?.reportUnreachable?.(this.#o.peer);
  }

  /** Forgets the socket first, so its late events are recognised as stale and ignored. */
  #dropConnection(): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#handshakeTimer = cancel(this.#handshakeTimer);
    this.#stallTimer = cancel(this.#stallTimer);
    socket?.destroy();
  }
}

function cancel(timer: NodeJS.Timeout | null): null {
  if (timer) clearTimeout(timer);
  return null;
}
