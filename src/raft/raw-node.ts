// The driver-facing API: feeds inputs to the Raft state machine and hands its effects out in
// Ready batches whose persistence order the driver must respect (see README).

import { encodeConfChange } from './conf-change.ts';
import { ProposalDroppedError } from './errors.ts';
import { Raft } from './raft.ts';
import type { ConfChange, ConfState, Config, Entry, HardState, Message, NodeId, Ready, SoftState, Status } from './types.ts';

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}

export class RawNode {
  readonly #raft: Raft;
  #prevSoftState: SoftState;
  #prevHardState: HardState;
  /** The Ready handed out and not yet advanced; only one may be outstanding. */
  #outstanding: Ready | null = null;
  /** sendBeforePersist mutation: whether the previous Ready withheld its persistence. */
  #withheldLastReady = false;

  constructor(config: Config) {
    this.#raft = new Raft(config);
    this.#prevSoftState = this.#raft.softState();
    this.#prevHardState = this.#raft.hardState();
  }

  get id(): NodeId {
    return this.#raft.id;
  }

  /** Advances logical time by one tick: election timeouts, heartbeats, check-quorum. */
  tick(): void {
    this.#raft.tick();
  }

  /** Starts an election now (with a pre-vote round when PreVote is on). */
  campaign(): void {
    this.#raft.hup(false);
  }

  /** Feeds a message received from a peer. Messages addressed to another node are ignored. */
  step(message: Message): void {
    if (message.to !== this.#raft.id) return;
    this.#raft.step(message);
  }

  /** Proposes application data. Throws ProposalDroppedError when it cannot be accepted now. */
  propose(data: Uint8Array): void {
    this.#stepLocal({ ...this.#localMessage('prop'), entries: [{ term: 0, index: 0, type: 'normal', data }] });
  }

  /** Proposes a membership change; it takes effect when its entry is applied (applyConfChange). */
  proposeConfChange(change: ConfChange): void {
    const entry: Entry = { term: 0, index: 0, type: 'confChange', data: encodeConfChange(change) };
    this.#stepLocal({ ...this.#localMessage('prop'), entries: [entry] });
  }

  /**
   * Applies a committed conf change to the membership the core uses, and returns the new
   * membership for the application to store alongside its state.
   */
  applyConfChange(change: ConfChange): ConfState {
    return this.#raft.applyConfChange(change);
  }

  /** Requests a linearizable read; the answer arrives as a ReadState with the same context. */
  readIndex(context: Uint8Array): void {
    if (this.#raft.mutations.readWithoutReadIndex) {
      // TEST-ONLY bug: trusts the local commit index without confirming leadership.
      this.#raft.readStates.push({ index: this.#raft.log.committed, context });
      return;
    }
    this.#stepLocal({ ...this.#localMessage('readIndex'), context });
  }

  /** Asks the leader (this node or the one it knows) to hand leadership over to `to`. */
  transferLeadership(to: NodeId): void {
    this.#stepLocal({ ...this.#localMessage('transferLeader'), transferee: to });
  }

  /** The transport could not reach `id`: stop streaming optimistically to it. */
  reportUnreachable(id: NodeId): void {
    this.#raft.reportUnreachable(id);
  }

  /** Sending a snapshot to `id` finished (ok) or failed. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.#raft.reportSnapshot(id, ok);
  }

  status(): Status {
    return this.#raft.status();
  }

  hasReady(): boolean {
    if (this.#outstanding !== null) return false;
    const raft = this.#raft;
    return (
      !sameSoftState(raft.softState(), this.#prevSoftState) ||
      !sameHardState(raft.hardState(), this.#prevHardState) ||
      raft.log.unstable.snapshot !== undefined ||
      raft.log.unstable.entries.length > 0 ||
      raft.msgs.length > 0 ||
      raft.readStates.length > 0 ||
      raft.log.hasNextCommittedEntries(raft.log.applied)
    );
  }

  /** The next batch of work. Call advance(ready) before asking for another one. */
  ready(): Ready {
    if (this.#outstanding !== null) throw new Error('raft: ready() called again before advance()');
    const raft = this.#raft;
    const softState = raft.softState();
    const hardState = raft.hardState();
    const entries = raft.log.unstableEntries();
    const snapshot = raft.log.unstable.snapshot;
    const messages = raft.msgs;
    raft.msgs = [];
    const readStates = raft.readStates;
    raft.readStates = [];

    const hardStateChanged = !sameHardState(hardState, this.#prevHardState);
    const withhold =
      raft.mutations.sendBeforePersist === true &&
      !this.#withheldLastReady &&
      messages.length > 0 &&
      (entries.length > 0 || hardStateChanged);
    this.#withheldLastReady = withhold;

    const ready: Ready = {
      entries: withhold ? [] : entries,
      // When persistence is withheld (test-only), apply only what is already durable, so the
      // bug shows up as lost promises rather than as applying entries storage never saw.
      committedEntries: raft.log.nextCommittedEntries(
        raft.log.applied,
        raft.maxCommittedSizePerReadyBytes,
        withhold ? raft.log.unstable.offset - 1 : undefined,
      ),
      messages,
      readStates,
      mustSync: false,
    };
    if (!sameSoftState(softState, this.#prevSoftState)) ready.softState = softState;
    this.#prevSoftState = softState;
    if (hardStateChanged && !withhold) ready.hardState = hardState;
    if (snapshot !== undefined) ready.snapshot = snapshot;
    ready.mustSync =
      ready.entries.length > 0 ||
      ready.snapshot !== undefined ||
      (ready.hardState !== undefined &&
        (ready.hardState.term !== this.#prevHardState.term || ready.hardState.vote !== this.#prevHardState.vote));
    this.#outstanding = ready;
    return ready;
  }

  /** The driver persisted, sent and applied `ready`. */
  advance(ready: Ready): void {
    if (ready !== this.#outstanding) throw new Error('raft: advance() with a Ready that is not the outstanding one');
    this.#outstanding = null;
    const log = this.#raft.log;
    if (ready.hardState) this.#prevHardState = ready.hardState;
    if (ready.snapshot) {
      log.stableSnapTo(ready.snapshot.metadata.index);
      log.appliedTo(ready.snapshot.metadata.index);
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry) log.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastCommitted) {
      log.appliedTo(lastCommitted.index);
      this.#raft.reduceUncommittedSize(ready.committedEntries);
    }
    if (ready.snapshot || lastCommitted) this.#raft.appliedAdvanced();
  }

  #localMessage(type: 'prop' | 'readIndex' | 'transferLeader'): Message {
    const id = this.#raft.id;
    return { type, from: id, to: id, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 };
  }

  #stepLocal(message: Message): void {
    const dropped = this.#raft.step(message);
    if (dropped !== null) throw new ProposalDroppedError(dropped);
  }
}
