// Records what concurrent clients saw, in the form the checker consumes.
import type { Operation } from './model.ts';

interface Pending<Input> {
  readonly clientId: number;
  readonly input: Input;
  readonly invokeTime: number;
}

/**
 * The clock is injected so the simulator can pass its virtual time and real-process tests
 * `() => performance.now()`. It must never go backwards: the checker trusts the times to
 * order operations.
 */
export class HistoryRecorder<Input, Output> {
  private readonly now: () => number;
  private readonly pending = new Map<number, Pending<Input>>();
  // Kept by id so the history lists operations in invocation order.
  private readonly finished = new Map<number, Operation<Input, Output>>();
  private nextOpId = 0;
  private lastTime = Number.NEGATIVE_INFINITY;

  constructor(now: () => number) {
    this.now = now;
  }

  private read(): number {
    const time = this.now();
    if (!Number.isFinite(time) || time < this.lastTime) {
      throw new RangeError(`HistoryRecorder: clock returned ${time} after ${this.lastTime}; it must be monotonic`);
    }
    this.lastTime = time;
    return time;
  }

  /** Call just before issuing the request. Returns the id to complete it with. */
  invoke(clientId: number, input: Input): number {
    const opId = this.nextOpId++;
    this.pending.set(opId, { clientId, input, invokeTime: this.read() });
    return opId;
  }

  /** Call as soon as the reply arrives. */
  complete(opId: number, output: Output): void {
    const call = this.take(opId, 'complete');
    this.finished.set(opId, { ...call, output, returnTime: this.read() });
  }

  /**
   * Forget an operation known not to have taken effect (e.g. rejected before it reached the
   * log). Never use it for a timeout: the request may still be applied later, so leave it
   * pending and it is recorded as open.
   */
  discard(opId: number): void {
    this.take(opId, 'discard');
  }

  private take(opId: number, verb: string): Pending<Input> {
    const call = this.pending.get(opId);
    if (call === undefined) throw new Error(`HistoryRecorder.${verb}: operation ${opId} is not pending`);
    this.pending.delete(opId);
    return call;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Snapshot in invocation order; operations still pending appear open. */
  operations(): Operation<Input, Output>[] {
    const all: [number, Operation<Input, Output>][] = [...this.finished.entries()];
    for (const [opId, call] of this.pending) {
      all.push([opId, { ...call, output: undefined, returnTime: Number.POSITIVE_INFINITY }]);
    }
    return all.sort(([a], [b]) => a - b).map(([, op]) => op);
  }
}
