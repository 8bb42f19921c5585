// What one peer has waiting to go out, and what happened to what went: the bounded queue, the
// frame builder, the counters and the snapshot reports. Shared by the TCP and in-memory links so
// both drop and count alike.

import type { Logger } from 'pino';
import type { Message, NodeId } from '../../raft/types.ts';
import type { BatchEncoder } from './codec.ts';
import { encodeMessage } from './codec.ts';
import { encodeFrame } from './frame.ts';
import { type QueuedMessage, SendQueue } from './send-queue.ts';
import type { PeerStats, TransportLimits } from './types.ts';

export interface OutboxOptions {
  peer: NodeId;
  limits: TransportLimits;
  batchEncoder: BatchEncoder;
  logger: Logger;
  /** Looked up at call time: handlers may be set after the transport is built. */
  reportSnapshot: (peer: NodeId, ok: boolean) => void;
}

export interface OutgoingFrame {
  frame: Buffer;
  items: QueuedMessage[];
}

export type OutboxStats = Omit<PeerStats, 'address' | 'connected' | 'connectAttempts' | 'lastError'>;

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #queue: SendQueue;
  readonly #maxMessageBytes: number;
  #sentMessages = 0;
  #sentFrames = 0;
  #sentBytes = 0;
  #droppedQueueFull = 0;
  #droppedTooLarge = 0;
  /** Overflow is logged once per episode, not once per message. */
  #overflowing = false;

  constructor(options: OutboxOptions) {
    this.#o = options;
    this.#queue = new SendQueue(options.limits);
    this.#maxMessageBytes = options.batchEncoder.messageBytesPerFrame(options.limits.maxFrameBytes);
  }

  get isEmpty(): boolean {
    return this.#queue.messages === 0;
  }

  enqueue(message: Message): void {
    const encoded = encodeMessage(message);
    if (encoded.byteLength > this.#maxMessageBytes) {
      this.#droppedTooLarge++;
      this.#o.logger.error(
        { peer: this.#o.peer, type: message.type, messageBytes: encoded.byteLength, maxFrameBytes: this.#o.limits.maxFrameBytes },
        'dropped a message larger than one frame may carry (snapshots must be sent in chunks)',
      );
      this.#dropped(message);
      return;
    }
    const dropped = this.#queue.push({ message, encoded });
    if (dropped.length === 0) return;
    this.#droppedQueueFull += dropped.length;
    if (!this.#overflowing) {
      this.#overflowing = true;
      this.#o.logger.warn(
        { peer: this.#o.peer, maxQueuedMessages: this.#o.limits.maxQueuedMessages, maxQueuedBytes: this.#o.limits.maxQueuedBytes },
        'send queue full; dropping the oldest messages until the peer catches up',
      );
    }
    for (const item of dropped) this.#dropped(item.message);
  }

  /** The next frame's worth of messages, oldest first, or null when nothing is queued. */
  nextFrame(): OutgoingFrame | null {
    const items = this.#queue.take(this.#maxMessageBytes);
    if (items.length === 0) return null;
    const frame = encodeFrame(this.#o.batchEncoder.bodyParts(items.map((item) => item.encoded)));
    this.#sentFrames++;
    this.#sentMessages += items.length;
    this.#sentBytes += frame.byteLength;
    this.#overflowing = false;
    return { frame, items };
  }

  /** The frame carrying `items` was handed over (ok) or lost with its connection. */
  settled(items: readonly QueuedMessage[], ok: boolean): void {
    for (const item of items) if (item.message.type === 'snap') this.#o.reportSnapshot(this.#o.peer, ok);
  }

  /** The peer is gone (removed, or the transport stopped): nothing queued will be sent. */
  discardAll(): void {
    for (const item of this.#queue.clear()) this.#dropped(item.message);
    this.#overflowing = false;
  }

  stats(): OutboxStats {
    return {
      queuedMessages: this.#queue.messages,
      queuedBytes: this.#queue.bytes,
      sentMessages: this.#sentMessages,
      sentFrames: this.#sentFrames,
      sentBytes: this.#sentBytes,
      droppedQueueFullMessages: this.#droppedQueueFull,
      droppedTooLargeMessages: this.#droppedTooLarge,
    };
  }

  #dropped(message: Message): void {
    if (message.type === 'snap') this.#o.reportSnapshot(this.#o.peer, false);
  }
}
