// Read requests a leader holds until a quorum confirms it is still leader (ReadIndex, Raft §6.4).
//
// Every request gets a round number; heartbeats carry the latest round and followers echo it.
// A follower acking round r answered a heartbeat sent after every request of round <= r was
// registered, so once a quorum acked r (or later), those requests are safe to serve.

import type { NodeId } from './types.ts';

export interface PendingRead {
  /** Commit index when the request arrived: the read must observe at least this. */
  index: number;
  context: Uint8Array;
  /** Node that asked (the leader itself or a follower that forwarded the request). */
  from: NodeId;
  round: number;
}

export class ReadIndexQueue {
  #pending: PendingRead[] = [];
  #lastRound = 0;
  #ackedRound = new Map<NodeId, number>();

  get size(): number {
    return this.#pending.length;
  }

  /** Round to put on outgoing heartbeats, or undefined when no read is waiting. */
  currentRound(): number | undefined {
    return this.#pending.length > 0 ? this.#lastRound : undefined;
  }

  add(index: number, context: Uint8Array, from: NodeId): number {
    this.#lastRound++;
    this.#pending.push({ index, context, from, round: this.#lastRound });
    return this.#lastRound;
  }

  ack(from: NodeId, round: number): void {
    if (round > (this.#ackedRound.get(from) ?? 0)) this.#ackedRound.set(from, round);
  }

  /** Removes and returns the requests whose round a quorum confirmed, oldest first. */
  takeConfirmed(isQuorum: (acked: (id: NodeId) => boolean) => boolean, self: NodeId): PendingRead[] {
    let released = 0;
    while (released < this.#pending.length) {
      const round = this.#pending[released]!.round;
      if (!isQuorum((id) => id === self || (this.#ackedRound.get(id) ?? 0) >= round)) break;
      released++;
    }
    if (released === 0) return [];
    const confirmed = this.#pending.slice(0, released);
    this.#pending = this.#pending.slice(released);
    return confirmed;
  }

  /** Leadership lost: waiting readers must retry elsewhere. Rounds keep increasing. */
  clear(): void {
    this.#pending = [];
    this.#ackedRound.clear();
  }
}

/** Rounds travel in a heartbeat's context as 8 big-endian bytes. */
export function encodeRound(round: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(round));
  return bytes;
}

export function decodeRound(context: Uint8Array | undefined): number | undefined {
  if (context === undefined || context.byteLength !== 8) return undefined;
  return Number(new DataView(context.buffer, context.byteOffset, 8).getBigUint64(0));
}
