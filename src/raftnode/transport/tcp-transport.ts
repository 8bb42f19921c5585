// The transport between Bramble nodes: a listener for inbound connections, one outbound PeerLink
// per peer. Plain TCP or TLS, depending only on whether `tls` is given.

import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../../raft/types.ts';
import { formatHostPort, parseHostPort } from './address.ts';
import { BatchEncoder } from './codec.ts';
import { InboundConnection } from './inbound-connection.ts';
import { positiveInteger, resolveLimits } from './options.ts';
import { PeerLink } from './peer-link.ts';
import { createListener, type TransportTlsOptions } from './sockets.ts';
import { emptyInboundStats, type InboundStats, type PeerStats, type Transport, type TransportHandlers, type TransportLimits, type TransportStats } from './types.ts';

export interface TcpTransportOptions extends Partial<TransportLimits> {
  id: NodeId;
  /** Peers of another cluster are refused at the handshake. Absent matches only absent. */
  clusterId?: string;
  /** host:port to listen on; port 0 picks a free port. */
  listenAddress: string;
  /** What address() reports, when peers must dial something else than listenAddress (0.0.0.0). */
  advertiseAddress?: string;
  logger: Logger;
  /** Absent: plain TCP. */
  tls?: TransportTlsOptions;
  /**
   * With TLS: why the authenticated peer on `socket` may not speak as `claimed` (e.g. its
   * certificate names another node), or null. Checked at the handshake; a refusal closes it.
   */
  verifyPeer?: (claimed: NodeId, socket: Socket) => string | null;
  /**
   * With TLS: why the authenticated socket may not be a peer at all (e.g. its certificate is not
   * a node's), or null. Checked as soon as it is accepted, before any hello; a refusal closes it.
   */
  verifyCertificate?: (socket: Socket) => string | null;
  /** First reconnect delay. Default 100. */
  reconnectBackoffBaseMs?: number;
  /** Reconnect delays never exceed this. Default 5000. */
  reconnectBackoffMaxMs?: number;
  /** Dial-to-welcome limit for outbound connections, connect-to-hello for inbound. Default 5000. */
  handshakeTimeoutMs?: number;
  /** Default 15000. */
  writeStallTimeoutMs?: number;
  /** Uniform in [0, 1), for back-off jitter. Default Math.random. */
  random?: () => number;
  handlers?: TransportHandlers;
}

type TransportState = 'new' | 'starting' | 'running' | 'stopped';

export class TcpTransport implements Transport {
  readonly id: NodeId;
  readonly #o: TcpTransportOptions;
  readonly #limits: TransportLimits;
  readonly #logger: Logger;
  readonly #batchEncoder: BatchEncoder;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #writeStallTimeoutMs: number;
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #inbound = new Set<InboundConnection>();
  readonly #rawSockets = new Set<Socket>();
  readonly #inboundByPeer = new Map<NodeId, InboundConnection>();
  readonly #inboundStats: InboundStats = emptyInboundStats();
  #handlers: TransportHandlers | null;
  #state: TransportState = 'new';
  #server: Server | null = null;
  #boundAddress: string | null = null;
  #droppedUnknownPeer = 0;

  constructor(options: TcpTransportOptions) {
    if (!parseHostPort(options.listenAddress, true)) {
      throw new RangeError(`transport: listenAddress must be host:port, got "${options.listenAddress}"`);
    }
    this.id = options.id;
    this.#o = options;
    this.#limits = resolveLimits(options);
    this.#logger = options.logger.child({ component: 'transport', node: options.id });
    this.#batchEncoder = new BatchEncoder(options.id, options.clusterId);
    this.#backoffBaseMs = positiveInteger('reconnectBackoffBaseMs', options.reconnectBackoffBaseMs, 100);
    this.#backoffMaxMs = positiveInteger('reconnectBackoffMaxMs', options.reconnectBackoffMaxMs, 5_000);
    if (this.#backoffMaxMs < this.#backoffBaseMs) throw new RangeError('transport: reconnectBackoffMaxMs must not be below reconnectBackoffBaseMs');
    this.#handshakeTimeoutMs = positiveInteger('handshakeTimeoutMs', options.handshakeTimeoutMs, 5_000);
    this.#writeStallTimeoutMs = positiveInteger('writeStallTimeoutMs', options.writeStallTimeoutMs, 15_000);
    this.#handlers = options.handlers ?? null;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`transport: start() called on a transport that is ${this.#state}`);
    this.#state = 'starting';
    const listen = parseHostPort(this.#o.listenAddress, true);
    if (!listen) throw new RangeError(`transport: bad listenAddress "${this.#o.listenAddress}"`);
    const server = createListener(
      this.#o.tls,
      this.#handshakeTimeoutMs,
      (socket) => this.#accept(socket),
      (error, remote) => {
        this.#inboundStats.rejectedConnections++;
        this.#logger.warn({ remote, reason: 'tls', err: error.message }, `refused a peer connection: TLS handshake failed: ${error.message}`);
      },
    );
    // Every raw connection, including TLS ones still in their handshake (not yet handed to
    // #accept), so stop() can close them all and server.close() does not wait on them.
    server.on('connection', (socket: Socket) => {
      this.#rawSockets.add(socket);
      socket.on('close', () => this.#rawSockets.delete(socket));
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      this.#state = 'stopped';
      this.#server = null;
      throw error;
    });
    server.on('error', (error: Error) => this.#logger.error({ err: error.message }, 'peer listener failed'));
    const bound = server.address();
    this.#boundAddress = bound !== null && typeof bound === 'object' ? formatHostPort({ host: bound.address, port: bound.port }) : this.#o.listenAddress;
    this.#logger.info({ address: this.#boundAddress, tls: this.#o.tls !== undefined }, 'peer transport listening');
    // stop() may have run while we were binding; it could not close a server not yet listening.
    if (this.#state !== 'starting') {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return;
    }
    this.#state = 'running';
    for (const link of this.#links.values()) link.start();
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#handlers = null;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    for (const connection of [...this.#inbound]) connection.close();
    for (const socket of this.#rawSockets) socket.destroy();
    this.#rawSockets.clear();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  address(): string {
    return this.#o.advertiseAddress ?? this.#boundAddress ?? this.#o.listenAddress;
  }

  send(messages: readonly Message[]): void {
    if (this.#state === 'stopped') return;
    for (const message of messages) {
      const link = this.#links.get(message.to);
      if (link) {
        link.enqueue(message);
      } else {
        this.#droppedUnknownPeer++;
        this.#logger.debug({ to: message.to, type: message.type }, 'dropped a message for a node that is not a peer');
      }
    }
  }

  addPeer(id: NodeId, address: string): void {
    if (this.#state === 'stopped') return;
    if (id === this.id) {
      this.#logger.warn({ peer: id }, 'ignored addPeer for this node itself');
      return;
    }
    const existing = this.#links.get(id);
    if (existing) {
      existing.setAddress(address);
      return;
    }
    const link = new PeerLink({
      self: this.id,
      clusterId: this.#o.clusterId,
      peer: id,
      address,
      limits: this.#limits,
      batchEncoder: this.#batchEncoder,
      logger: this.#logger,
      tls: this.#o.tls,
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
      writeStallTimeoutMs: this.#writeStallTimeoutMs,
      backoff: { reconnectBackoffBaseMs: this.#backoffBaseMs, reconnectBackoffMaxMs: this.#backoffMaxMs, random: this.#o.random ?? Math.random },
      handlers: () => this.#handlers,
    });
    this.#links.set(id, link);
    if (this.#state === 'running') link.start();
  }

  updatePeer(id: NodeId, address: string): void {
    this.addPeer(id, address);
  }

  removePeer(id: NodeId): void {
    const link = this.#links.get(id);
    if (!link) return;
    this.#links.delete(id);
    link.close();
  }

  setHandlers(handlers: TransportHandlers): void {
    if (this.#state !== 'stopped') this.#handlers = handlers;
  }

  stats(): TransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, link] of this.#links) peers[id] = link.stats();
    return { peers, droppedUnknownPeerMessages: this.#droppedUnknownPeer, inbound: { ...this.#inboundStats } };
  }

  #accept(socket: Socket): void {
    if (this.#state === 'stopped') {
      socket.destroy();
      return;
    }
    const connection = new InboundConnection(socket, {
      self: this.id,
      clusterId: this.#o.clusterId,
      maxFrameBytes: this.#limits.maxFrameBytes,
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
      logger: this.#logger,
      stats: this.#inboundStats,
      ...(this.#o.verifyPeer ? { verifyPeer: this.#o.verifyPeer } : {}),
      ...(this.#o.verifyCertificate ? { verifyCertificate: this.#o.verifyCertificate } : {}),
      deliver: (messages, from) => this.#deliver(messages, from),
      accepted: (accepted, from) => {
        // A peer keeps one outbound connection to us; a new one means the old one is dead on its
        // side, even if we have not noticed yet (a rebooted board sends no FIN).
        const previous = this.#inboundByPeer.get(from);
        this.#inboundByPeer.set(from, accepted);
        if (previous) {
          this.#logger.debug({ peer: from }, 'a new connection from the peer replaces its previous one');
          previous.close();
        }
      },
      closed: (closed) => {
        this.#inbound.delete(closed);
        if (closed.peer !== null && this.#inboundByPeer.get(closed.peer) === closed) this.#inboundByPeer.delete(closed.peer);
      },
    });
    this.#inbound.add(connection);
  }

  #deliver(messages: Message[], from: NodeId): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    try {
      handlers.onMessages(messages, from);
    } catch (error) {
      this.#logger.error({ peer: from, err: error instanceof Error ? error.message : String(error) }, 'the message handler threw; messages dropped');
    }
  }
}
