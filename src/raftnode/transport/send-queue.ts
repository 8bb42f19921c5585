// The bounded queue of one peer. On overflow the OLDEST messages go: Raft messages are
// superseded by newer ones (a later heartbeat, append or vote carries the current term and commit
// index), so when a peer comes back the useful part is the recent tail, not a backlog of stale
// terms. Raft retries whatever is lost; the queue only has to stay bounded.

import type { Message } from '../../raft/types.ts';

export interface QueuedMessage {
  message: Message;
  encoded: Buffer;
}

export interface SendQueueLimits {
  maxQueuedMessages: number;
  maxQueuedBytes: number;
}

export class SendQueue {
  readonly #limits: SendQueueLimits;
  #items: QueuedMessage[] = [];
  /** Index of the oldest item; dequeuing moves it instead of shifting the array. */
  #head = 0;
  #bytes = 0;

  constructor(limits: SendQueueLimits) {
    this.#limits = limits;
  }

  get messages(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends `item`, evicting the oldest items until both limits hold. Returns what was dropped:
   * evicted items, or `item` itself when it alone is larger than maxQueuedBytes.
   */
  push(item: QueuedMessage): QueuedMessage[] {
    if (item.encoded.byteLength > this.#limits.maxQueuedBytes) return [item];
    const dropped: QueuedMessage[] = [];
    while (this.messages > 0 && (this.messages + 1 > this.#limits.maxQueuedMessages || this.#bytes + item.encoded.byteLength > this.#limits.maxQueuedBytes)) {
      const oldest = this.#shift();
      if (oldest) dropped.push(oldest);
    }
    this.#items.push(item);
    this.#bytes += item.encoded.byteLength;
    return dropped;
  }

  /** Removes the oldest items whose encodings fit in `maxBytes` together; at least one if any. */
  take(maxBytes: number): QueuedMessage[] {
    const taken: QueuedMessage[] = [];
    let takenBytes = 0;
    for (;;) {
      const next = this.#items[this.#head];
      if (!next) break;
      if (taken.length > 0 && takenBytes + next.encoded.byteLength > maxBytes) break;
      this.#shift();
      taken.push(next);
      takenBytes += next.encoded.byteLength;
    }
    return taken;
  }

  /** Empties the queue, returning what it held, oldest first. */
  clear(): QueuedMessage[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return all;
  }

  #shift(): QueuedMessage | undefined {
    const item = this.#items[this.#head];
    if (!item) return undefined;
    this.#head++;
    this.#bytes -= item.encoded.byteLength;
    // Compact once the consumed prefix dominates, keeping shifts O(1) amortised.
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
