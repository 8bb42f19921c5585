// A Transport for several nodes in one process (tests of the node driver). It keeps the TCP
// transport's observable behaviour: the same bounded queues and counters, batching per turn of
// the event loop, the same frame encoding and validation (so a message that would not survive
// the wire does not survive here either), the same handshake checks and unreachable reports.
// Delivery is asynchronous, never inside send().

import pino, { type Logger } from 'pino';
import type { Message, NodeId } from '../../raft/types.ts';
import { BatchEncoder, decodeBody } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { FrameDecoder } from './frame.ts';
import { resolveLimits } from './options.ts';
import { Outbox } from './outbox.ts';
import { emptyInboundStats, type InboundStats, type PeerStats, type Transport, type TransportHandlers, type TransportLimits, type TransportStats } from './types.ts';
import { parseBatch } from './validate.ts';

/** The "wire" between MemoryTransports: which transport answers at which address. */
export class MemoryNetwork {
  readonly #listening = new Map<string, MemoryTransport>();
  readonly #members = new Set<MemoryTransport>();

  /** @internal */
  join(transport: MemoryTransport): void {
    this.#members.add(transport);
  }

  /** @internal */
  listen(address: string, transport: MemoryTransport): void {
    if (this.#listening.has(address)) throw new Error(`memory transport: address ${address} is already in use`);
    this.#listening.set(address, transport);
    for (const member of this.#members) member.addressChanged(address);
  }

  /** @internal */
  unlisten(address: string, transport: MemoryTransport): void {
    if (this.#listening.get(address) !== transport) return;
    this.#listening.delete(address);
    this.#members.delete(transport);
    for (const member of this.#members) member.addressChanged(address);
  }

  /** @internal */
  lookup(address: string): MemoryTransport | undefined {
    return this.#listening.get(address);
  }
}

export interface MemoryTransportOptions extends Partial<TransportLimits> {
  id: NodeId;
  clusterId?: string;
  /** Default `mem://<id>`. */
  address?: string;
  /** Default: silent. */
  logger?: Logger;
  handlers?: TransportHandlers;
}

class MemoryLink {
  readonly peer: NodeId;
  readonly outbox: Outbox;
  address: string;
  connected = false;
  connectAttempts = 0;
  lastError: string | null = null;
  flushScheduled: NodeJS.Immediate | null = null;

  constructor(peer: NodeId, address: string, outbox: Outbox) {
    this.peer = peer;
    this.address = address;
    this.outbox = outbox;
  }
}

type MemoryState = 'new' | 'running' | 'stopped';

export class MemoryTransport implements Transport {
  readonly id: NodeId;
  readonly #network: MemoryNetwork;
  readonly #address: string;
  readonly #clusterId: string | undefined;
  readonly #limits: TransportLimits;
  readonly #logger: Logger;
  readonly #batchEncoder: BatchEncoder;
  readonly #links = new Map<NodeId, MemoryLink>();
  readonly #inboundStats: InboundStats = emptyInboundStats();
  #handlers: TransportHandlers | null;
  #state: MemoryState = 'new';
  #droppedUnknownPeer = 0;

  constructor(network: MemoryNetwork, options: MemoryTransportOptions) {
    this.id = options.id;
    this.#network = network;
    this.#address = options.address ?? `mem://${options.id}`;
    this.#clusterId = options.clusterId;
    this.#limits = resolveLimits(options);
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'transport', node: options.id });
    this.#batchEncoder = new BatchEncoder(options.id, options.clusterId);
    this.#handlers = options.handlers ?? null;
    network.join(this);
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`transport: start() called on a transport that is ${this.#state}`);
    this.#network.listen(this.#address, this);
    this.#state = 'running';
    for (const link of this.#links.values()) this.#schedule(link);
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#handlers = null;
    for (const link of this.#links.values()) this.#close(link);
    this.#links.clear();
    this.#network.unlisten(this.#address, this);
  }

  address(): string {
    return this.#address;
  }

  send(messages: readonly Message[]): void {
    if (this.#state === 'stopped') return;
    for (const message of messages) {
      const link = this.#links.get(message.to);
      if (!link) {
        this.#droppedUnknownPeer++;
        continue;
      }
      link.outbox.enqueue(message);
      this.#schedule(link);
    }
  }

  addPeer(id: NodeId, address: string): void {
    if (this.#state === 'stopped' || id === this.id) return;
    const existing = this.#links.get(id);
    if (existing) {
      if (existing.address === address) return;
      existing.address = address;
      existing.connected = false;
      this.#schedule(existing);
      return;
    }
    const outbox = new Outbox({
      peer: id,
      limits: this.#limits,
      batchEncoder: this.#batchEncoder,
      logger: this.#logger,
      reportSnapshot: (peer, ok) => this.#handlers?.reportSnapshot?.(peer, ok),
    });
    this.#links.set(id, new MemoryLink(id, address, outbox));
  }

  updatePeer(id: NodeId, address: string): void {
    this.addPeer(id, address);
  }

  removePeer(id: NodeId): void {
    const link = this.#links.get(id);
    if (!link) return;
    this.#links.delete(id);
    this.#close(link);
  }

  setHandlers(handlers: TransportHandlers): void {
    if (this.#state !== 'stopped') this.#handlers = handlers;
  }

  stats(): TransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, link] of this.#links) {
      peers[id] = { address: link.address, connected: link.connected, ...link.outbox.stats(), connectAttempts: link.connectAttempts, lastError: link.lastError };
    }
    return { peers, droppedUnknownPeerMessages: this.#droppedUnknownPeer, inbound: { ...this.#inboundStats } };
  }

  /** @internal A transport started or stopped at `address`. */
  addressChanged(address: string): void {
    for (const link of this.#links.values()) {
      if (link.address !== address) continue;
      if (link.connected && this.#network.lookup(address) === undefined) {
        link.connected = false;
        this.#unreachable(link.peer, link, `the peer at ${address} stopped`);
      }
      this.#schedule(link);
    }
  }

  /**
   * @internal The other side of a link: a whole frame from `from`. Returns the refusal reason
   * for a handshake this node would refuse, else null.
   */
  refusalOf(from: NodeId, to: NodeId, clusterId: string | undefined): string | null {
    if (this.#state !== 'running') return `nothing listens at ${this.#address}`;
    const ours = this.#clusterId ?? null;
    let refusal: string | null = null;
    if ((clusterId ?? null) !== ours) {
      refusal = `cluster id mismatch: the peer ${from} belongs to ${clusterId === undefined ? 'no cluster' : `cluster ${clusterId}`}, this node to ${ours === null ? 'no cluster' : `cluster ${ours}`}`;
    } else if (to !== this.id) {
      refusal = `the peer ${from} dialed node ${to}, but this is node ${this.id} (stale address?)`;
    }
    if (refusal !== null) {
      this.#inboundStats.rejectedConnections++;
      this.#logger.warn({ from, reason: 'handshakeRefused', err: refusal }, `refused a peer connection: ${refusal}`);
    } else {
      this.#inboundStats.acceptedConnections++;
    }
    return refusal;
  }

  /** @internal Decodes and checks the frame exactly as an inbound TCP connection would. */
  receiveFrame(from: NodeId, frame: Buffer): void {
    if (this.#state !== 'running') return;
    const { frames, error } = new FrameDecoder(this.#limits.maxFrameBytes).push(frame);
    try {
      if (error) throw error;
      for (const { body } of frames) {
        const batch = parseBatch(decodeBody(body));
        if (batch.from !== from || batch.messages.some((message) => message.from !== from || message.to !== this.id)) {
          throw new ProtocolError('badShape', `batch from ${from} carries messages of another sender or for another node`);
        }
        this.#inboundStats.receivedFrames++;
        this.#inboundStats.receivedBytes += frame.byteLength;
        this.#inboundStats.receivedMessages += batch.messages.length;
        this.#deliver(batch.messages, from);
      }
    } catch (caught) {
      this.#inboundStats.rejectedConnections++;
      const reason = caught instanceof ProtocolError ? caught.reason : 'badShape';
      const message = caught instanceof Error ? caught.message : String(caught);
      this.#logger.warn({ peer: from, reason, err: message }, `closed a peer connection: ${message}`);
    }
  }

  #schedule(link: MemoryLink): void {
    if (this.#state !== 'running' || link.flushScheduled || link.outbox.isEmpty) return;
    link.flushScheduled = setImmediate(() => {
      link.flushScheduled = null;
      this.#flush(link);
    });
  }

  #flush(link: MemoryLink): void {
    const peer = link.peer;
    if (this.#state !== 'running' || this.#links.get(peer) !== link || link.outbox.isEmpty) return;
    if (!link.connected) {
      link.connectAttempts++;
      const target = this.#network.lookup(link.address);
      const refusal = target ? target.refusalOf(this.id, peer, this.#clusterId) : `nothing listens at ${link.address}`;
      if (refusal !== null || !target) {
        // Messages stay queued (bounded); the network reschedules us when the address changes.
        this.#unreachable(peer, link, refusal ?? `nothing listens at ${link.address}`);
        return;
      }
      link.connected = true;
      link.lastError = null;
    }
    const target = this.#network.lookup(link.address);
    for (let next = link.outbox.nextFrame(); next && target; next = link.outbox.nextFrame()) {
      target.receiveFrame(this.id, next.frame);
      link.outbox.settled(next.items, true);
    }
  }

  #unreachable(peer: NodeId, link: MemoryLink, reason: string): void {
    if (link.lastError !== reason) this.#logger.warn({ peer, address: link.address, err: reason }, `cannot connect to peer: ${reason}`);
    link.lastError = reason;
    this.#handlers?.reportUnreachable?.(peer);
  }

  #close(link: MemoryLink): void {
    if (link.flushScheduled) clearImmediate(link.flushScheduled);
    link.flushScheduled = null;
    link.connected = false;
    link.outbox.discardAll();
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
