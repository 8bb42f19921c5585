// The peer transport's public contract. TcpTransport (real sockets, optionally TLS) and
// MemoryTransport (one process) both implement it and pass the same contract suite.

import type { Message, NodeId } from '../../raft/types.ts';

/** Messages received from peer `from`, in the order that peer sent them on one connection. */
export type MessageHandler = (messages: Message[], from: NodeId) => void;

export interface TransportHandlers {
  onMessages: MessageHandler;
  /**
   * A peer could not be reached (connect failed, handshake refused, connection lost). Wire it to
   * RawNode.reportUnreachable so the leader stops pipelining appends into the void.
   */
  reportUnreachable?: (peer: NodeId) => void;
  /**
   * A 'snap' message to `peer` was handed to the connection (ok) or dropped (not ok). Wire it to
   * RawNode.reportSnapshot so the leader leaves the snapshot state either way.
   */
  reportSnapshot?: (peer: NodeId, ok: boolean) => void;
}

export interface PeerStats {
  address: string;
  /** A connection is open and the peer accepted our handshake. */
  connected: boolean;
  queuedMessages: number;
  queuedBytes: number;
  sentMessages: number;
  sentFrames: number;
  /** Whole frames, headers included. */
  sentBytes: number;
  /** Evicted because the bounded queue was full (the oldest go first). */
  droppedQueueFullMessages: number;
  /** Larger than one frame may carry; never queued. */
  droppedTooLargeMessages: number;
  /** Connections attempted, successful or not. */
  connectAttempts: number;
  /** Why the last connection attempt or connection failed; null once connected again. */
  lastError: string | null;
}

export interface InboundStats {
  /** Inbound connections open now (handshake done or not). */
  openConnections: number;
  acceptedConnections: number;
  /** Closed for a refused handshake or a protocol error. */
  rejectedConnections: number;
  receivedFrames: number;
  receivedBytes: number;
  receivedMessages: number;
}

export function emptyInboundStats(): InboundStats {
  return { openConnections: 0, acceptedConnections: 0, rejectedConnections: 0, receivedFrames: 0, receivedBytes: 0, receivedMessages: 0 };
}

export interface TransportStats {
  peers: Record<NodeId, PeerStats>;
  /** Messages given to send() for a node that is not a peer (never added, or removed). */
  droppedUnknownPeerMessages: number;
  inbound: InboundStats;
}

/**
 * Moves Raft messages between nodes. send() never blocks and never throws for a peer problem:
 * what cannot be delivered is dropped and counted, and Raft retries.
 */
export interface Transport {
  readonly id: NodeId;
  /** Starts accepting connections; messages queued before start() are sent after it. */
  start(): Promise<void>;
  /** Closes the listener and every connection, drops every queue. Idempotent. */
  stop(): Promise<void>;
  /** Address peers should dial to reach this node (the bound port once started). */
  address(): string;
  /** Queues each message for its `to` peer; batched and sent asynchronously. */
  send(messages: readonly Message[]): void;
  /** Idempotent; a known peer with a new address is updated as by updatePeer. */
  addPeer(id: NodeId, address: string): void;
  /** Reconnects to the new address; queued messages are kept. Unknown peers are added. */
  updatePeer(id: NodeId, address: string): void;
  /** Closes the connection and drops what was queued; later sends to it count as unknown. */
  removePeer(id: NodeId): void;
  setHandlers(handlers: TransportHandlers): void;
  stats(): TransportStats;
}

/** Limits shared by every implementation, so tests of the node see the same drops. */
export interface TransportLimits {
  /** Largest frame on the wire, its 4-byte length prefix included. Every node must agree. */
  maxFrameBytes: number;
  /** Per peer. */
  maxQueuedMessages: number;
  /** Per peer, counted as encoded message bytes. */
  maxQueuedBytes: number;
}
