// The binding cycle's writes: decisions wait here and go out as one bindAll (one store transaction)
// when a batch is full, or once the decisions queued now are made (setImmediate runs after the
// work queue's microtasks), with a bound on the bindings in flight so decisions wait for room
// rather than pile up. What to do with each answer is the scheduler's (onAnswer).
import type { PodBinding, Status } from '../../client/index.ts';

export interface PendingBind {
  key: string;
  nodeName: string;
  binding: PodBinding;
}

/** null: bound; a Status: refused; undefined with an error: the whole write failed. */
export type BindAnswer = (bind: PendingBind, refusal: Status | null | undefined, error?: unknown) => void;

export interface BindBatcherOptions {
  bindAll: (bindings: readonly PodBinding[]) => Promise<(Status | null)[]>;
  onAnswer: BindAnswer;
  maxPerBatch: number;
  maxInFlight: number;
}

export class BindBatcher {
  private pending: PendingBind[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  private readonly settled = new Set<Promise<void>>();

  constructor(private readonly options: BindBatcherOptions) {}

  /** Queues one decision; resolves when there is room for more (bindings in flight below the bound). */
  async add(bind: PendingBind): Promise<void> {
    this.pending.push(bind);
    if (this.pending.length >= this.options.maxPerBatch) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    while (this.inFlight + this.pending.length >= this.options.maxInFlight && this.settled.size > 0) await Promise.race(this.settled);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.inFlight += batch.length;
    const { onAnswer } = this.options;
    const write: Promise<void> = this.options.bindAll(batch.map((b) => b.binding)).then(
      (answers) => answers.forEach((answer, i) => onAnswer(batch[i]!, answer)),
      (error: unknown) => batch.forEach((b) => onAnswer(b, undefined, error)),
    );
    const tracked: Promise<void> = write.finally(() => {
      this.inFlight -= batch.length;
      this.settled.delete(tracked);
    });
    this.settled.add(tracked);
  }
}
