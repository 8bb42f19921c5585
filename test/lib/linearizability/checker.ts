// Wing–Gong search with Lowe's refinements and a memo of (linearized set, state), after the
// approach popularised by Porcupine. See README.md in this folder.
import { describeOperationOf, describeStateOf, formatTime } from './describe.ts';
import type { Model, Operation, Partition } from './model.ts';

export interface CheckOptions {
  /** Wall-clock budget for the whole history; without it the search may run for ever. */
  readonly timeoutMs?: number;
  /**
   * A budget of model steps for the whole history: the same history always gets the same answer,
   * however busy the machine (tests use this; timeoutMs bounds a long run in wall-clock time).
   */
  readonly maxSteps?: number;
  /**
   * Turning the memo off exists only to show what it buys; the search then explores every
   * interleaving and is exponential on histories with wide concurrency.
   */
  readonly memoize?: boolean;
}

export interface CheckStats {
  /** Calls to `model.step`. */
  readonly steps: number;
  /** Times a configuration was recognised as already explored and skipped. */
  readonly memoHits: number;
  readonly memoEntries: number;
}

/** Why one partition is not linearizable, from the deepest point the search reached. */
export interface IllegalPartition<State, Input, Output> {
  readonly key: string;
  /** Every operation of the partition, in the order the partition listed them. */
  readonly operations: readonly Operation<Input, Output>[];
  /** The longest legal linearization found, in linearization order. */
  readonly longestPrefix: readonly Operation<Input, Output>[];
  readonly stateAfterPrefix: State;
  /**
   * An operation that had to take effect before it returned but could not be placed after
   * `longestPrefix`: neither it nor any other candidate led to a full linearization.
   */
  readonly unplaced: Operation<Input, Output>;
  /** One line for logs; `renderIllegal` gives the full picture. */
  readonly explanation: string;
}

interface CheckSummary {
  readonly partitionsTotal: number;
  /** Partitions the search decided (ok or illegal) before stopping. */
  readonly partitionsChecked: number;
  readonly elapsedMs: number;
  readonly stats: CheckStats;
}

export type CheckResult<State, Input, Output> = CheckSummary &
  (
    | { readonly result: 'ok' }
    | { readonly result: 'illegal'; readonly illegal: IllegalPartition<State, Input, Output> }
    | {
        readonly result: 'unknown';
        /** Partitions left undecided when the budget ran out. */
        readonly undecidedKeys: readonly string[];
      }
  );

type SearchOutcome<State> =
  | { readonly kind: 'ok' }
  | { readonly kind: 'timeout' }
  | {
      readonly kind: 'illegal';
      readonly prefixOps: readonly number[];
      readonly stuckOp: number;
      readonly stateAfterPrefix: State;
    };

interface MutableStats {
  steps: number;
  memoHits: number;
  memoEntries: number;
}

const NONE = -1;
// Reading the clock on every step would dominate cheap models.
const CLOCK_CHECK_INTERVAL_STEPS = 1024;

/**
 * Decides whether `history` is linearizable with respect to `model`.
 *
 * Partitions are checked smallest first, so an easy violation is not hidden behind a hard
 * partition that exhausts the budget; the first illegal partition ends the check.
 */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<State, Input, Output> {
  const startMs = performance.now();
  const deadlineMs = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : startMs + options.timeoutMs;
  const memoize = options.memoize ?? true;
  for (const op of history) validateOperation(op);

  const partitions: readonly Partition<Input, Output>[] = model.partition
    ? model.partition(history)
    : [{ key: '', operations: history }];
  const order = partitions
    .map((partition, index) => ({ partition, index }))
    .sort((a, b) => a.partition.operations.length - b.partition.operations.length || a.index - b.index);

  const stats: MutableStats = { steps: 0, memoHits: 0, memoEntries: 0 };
  const summary = (checked: number): CheckSummary => ({
    partitionsTotal: partitions.length,
    partitionsChecked: checked,
    elapsedMs: performance.now() - startMs,
    stats: { ...stats },
  });

  let checked = 0;
  for (const [position, { partition }] of order.entries()) {
    const outcome = searchPartition(model, partition.operations, { deadlineMs, maxSteps: options.maxSteps ?? Number.POSITIVE_INFINITY }, memoize, stats);
    if (outcome.kind === 'timeout') {
      return {
        ...summary(checked),
        result: 'unknown',
        undecidedKeys: order.slice(position).map((entry) => entry.partition.key),
      };
    }
    checked++;
    if (outcome.kind === 'illegal') {
      return { ...summary(checked), result: 'illegal', illegal: explain(model, partition, outcome) };
    }
  }
  return { ...summary(checked), result: 'ok' };
}

function validateOperation(op: Operation<unknown, unknown>): void {
  if (!Number.isFinite(op.invokeTime)) {
    throw new RangeError(`operation of client ${op.clientId}: invokeTime must be finite, got ${op.invokeTime}`);
  }
  if (Number.isNaN(op.returnTime) || op.returnTime < op.invokeTime) {
    throw new RangeError(
      `operation of client ${op.clientId}: returnTime ${op.returnTime} precedes invokeTime ${op.invokeTime}`,
    );
  }
}

function explain<State, Input, Output>(
  model: Model<State, Input, Output>,
  partition: Partition<Input, Output>,
  outcome: Extract<SearchOutcome<State>, { kind: 'illegal' }>,
): IllegalPartition<State, Input, Output> {
  const opAt = (index: number): Operation<Input, Output> => {
    const op = partition.operations[index];
    if (op === undefined) throw new Error(`checker bug: no operation ${index} in partition`);
    return op;
  };
  const unplaced = opAt(outcome.stuckOp);
  const where = partition.key === '' ? 'history' : `key ${JSON.stringify(partition.key)}`;
  const explanation =
    `${where}: ${describeOperationOf(model, unplaced)} ` +
    `[${formatTime(unplaced.invokeTime)}, ${formatTime(unplaced.returnTime)}] cannot be placed after the ` +
    `longest linearizable prefix (${outcome.prefixOps.length} of ${partition.operations.length} operations, ` +
    `state ${describeStateOf(model, outcome.stateAfterPrefix)})`;
  return {
    key: partition.key,
    operations: partition.operations,
    longestPrefix: outcome.prefixOps.map(opAt),
    stateAfterPrefix: outcome.stateAfterPrefix,
    unplaced,
    explanation,
  };
}

/**
 * The history as a doubly linked list of call and return events in time order (node 0 is
 * a sentinel head). Linearizing an operation unlinks its call and return; undoing it relinks
 * them, which is exact as long as undo happens in reverse order, as it does on a stack.
 */
class EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly opOf: Int32Array;
  readonly isReturn: Uint8Array;
  /** For a call node, its return node, or NONE when the operation never returned. */
  readonly returnOf: Int32Array;

  constructor(ops: readonly Operation<unknown, unknown>[]) {
    interface Event {
      time: number;
      isReturn: boolean;
      op: number;
    }
    const events: Event[] = [];
    ops.forEach((op, index) => {
      events.push({ time: op.invokeTime, isReturn: false, op: index });
      if (op.returnTime !== Number.POSITIVE_INFINITY) events.push({ time: op.returnTime, isReturn: true, op: index });
    });
    // Calls before returns at equal times: closed intervals (see Operation).
    events.sort((a, b) => a.time - b.time || Number(a.isReturn) - Number(b.isReturn) || a.op - b.op);

    const size = events.length + 1;
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
    this.opOf = new Int32Array(size).fill(NONE);
    this.isReturn = new Uint8Array(size);
    this.returnOf = new Int32Array(size).fill(NONE);
    const callNodeOfOp = new Int32Array(ops.length);
    for (let node = 0; node < size; node++) {
      this.prev[node] = node - 1;
      this.next[node] = node + 1 < size ? node + 1 : NONE;
    }
    events.forEach((event, i) => {
      const node = i + 1;
      this.opOf[node] = event.op;
      if (event.isReturn) {
        this.isReturn[node] = 1;
        this.returnOf[callNodeOfOp[event.op]!] = node;
      } else {
        callNodeOfOp[event.op] = node;
      }
    });
  }

  private unlink(node: number): void {
    const before = this.prev[node]!;
    const after = this.next[node]!;
    this.next[before] = after;
    if (after !== NONE) this.prev[after] = before;
  }

  private relink(node: number): void {
    const before = this.prev[node]!;
    const after = this.next[node]!;
    this.next[before] = node;
    if (after !== NONE) this.prev[after] = node;
  }

  lift(callNode: number): void {
    this.unlink(callNode);
    const returnNode = this.returnOf[callNode]!;
    if (returnNode !== NONE) this.unlink(returnNode);
  }

  unlift(callNode: number): void {
    const returnNode = this.returnOf[callNode]!;
    if (returnNode !== NONE) this.relink(returnNode);
    this.relink(callNode);
  }
}

function packBits(bits: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let base = from; base < to; base += 16) {
    let word = 0;
    for (let i = 0; i < 16 && base + i < to; i++) word |= bits[base + i]! << i;
    out += String.fromCharCode(word);
  }
  return out;
}

/**
 * The set of linearized operations, keyed for the memo in space proportional to the
 * concurrency rather than to the history: a full bitset would make every step O(n) and a
 * long partition quadratic.
 *
 * Completed operations are ranked by invocation. Every rank below `low` is linearized and
 * `low` itself is not; an operation can only be linearized before `low`'s return, so set
 * ranks beyond `low` all lie in the window of operations invoked by then. Open operations,
 * which may stay out for good, get a plain bitset of their own.
 */
class LinearizedSet {
  private readonly rankOf: Int32Array;
  private readonly openIndexOf: Int32Array;
  private readonly completedByRank: Uint8Array;
  private readonly openBits: Uint8Array;
  /** For each rank r, one past the last rank invoked no later than r returned. */
  private readonly windowEnd: Int32Array;
  private readonly completedCount: number;
  private linearizedCompleted = 0;
  private low = 0;

  constructor(ops: readonly Operation<unknown, unknown>[]) {
    this.rankOf = new Int32Array(ops.length).fill(NONE);
    this.openIndexOf = new Int32Array(ops.length).fill(NONE);
    const completed: number[] = [];
    let openCount = 0;
    ops.forEach((op, index) => {
      if (op.returnTime === Number.POSITIVE_INFINITY) this.openIndexOf[index] = openCount++;
      else completed.push(index);
    });
    completed.sort((a, b) => ops[a]!.invokeTime - ops[b]!.invokeTime || a - b);
    completed.forEach((op, rank) => {
      this.rankOf[op] = rank;
    });
    this.completedCount = completed.length;
    this.completedByRank = new Uint8Array(completed.length);
    this.openBits = new Uint8Array(openCount);
    this.windowEnd = new Int32Array(completed.length);
    let end = 0;
    // Return times are not sorted by rank, so walk them in order to move `end` forward only.
    const byReturn = [...completed.keys()].sort((a, b) => ops[completed[a]!]!.returnTime - ops[completed[b]!]!.returnTime);
    for (const rank of byReturn) {
      const returnTime = ops[completed[rank]!]!.returnTime;
      while (end < completed.length && ops[completed[end]!]!.invokeTime <= returnTime) end++;
      this.windowEnd[rank] = end;
    }
  }

  add(op: number): void {
    const rank = this.rankOf[op]!;
    if (rank === NONE) {
      this.openBits[this.openIndexOf[op]!] = 1;
      return;
    }
    this.completedByRank[rank] = 1;
    this.linearizedCompleted++;
    while (this.low < this.completedCount && this.completedByRank[this.low] === 1) this.low++;
  }

  remove(op: number): void {
    const rank = this.rankOf[op]!;
    if (rank === NONE) {
      this.openBits[this.openIndexOf[op]!] = 0;
      return;
    }
    this.completedByRank[rank] = 0;
    this.linearizedCompleted--;
    if (rank < this.low) this.low = rank;
  }

  /** Only meaningful while some completed operation is still out (the search stops before). */
  key(): string {
    const end = this.low < this.completedCount ? this.windowEnd[this.low]! : this.completedCount;
    let inWindow = 0;
    for (let rank = this.low; rank < end; rank++) inWindow += this.completedByRank[rank]!;
    if (this.low + inWindow !== this.linearizedCompleted) {
      // A set rank outside the window would make two different sets share a key.
      throw new Error('checker bug: linearized operation outside the concurrency window');
    }
    return `${this.low}:${packBits(this.completedByRank, this.low, end)}${packBits(this.openBits, 0, this.openBits.length)}`;
  }
}

function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  budget: { deadlineMs: number; maxSteps: number },
  memoize: boolean,
  stats: MutableStats,
): SearchOutcome<State> {
  const list = new EventList(ops);
  const linearized = new LinearizedSet(ops);
  const memo = new Set<string>();
  // Open operations need not be linearized at all: leaving one out means it never took effect.
  let completedLeft = ops.reduce((count, op) => count + (op.returnTime === Number.POSITIVE_INFINITY ? 0 : 1), 0);
  if (completedLeft === 0) return { kind: 'ok' };

  const stackNodes: number[] = [];
  const stackStates: State[] = [];
  let state = model.init();
  let best: Extract<SearchOutcome<State>, { kind: 'illegal' }> | undefined;
  let iterations = 0;
  let node = list.next[0]!;

  for (;;) {
    if (stats.steps > budget.maxSteps || (++iterations % CLOCK_CHECK_INTERVAL_STEPS === 0 && performance.now() > budget.deadlineMs)) {
      return { kind: 'timeout' };
    }
    if (node === NONE) {
      // The walk stops at the first remaining return, and one remains while completedLeft > 0.
      throw new Error('checker bug: walked past every return event');
    }
    const op = list.opOf[node]!;
    if (list.isReturn[node] === 0) {
      const candidate = ops[op]!;
      stats.steps++;
      const result = model.step(state, candidate.input, candidate.output);
      const completes = candidate.returnTime !== Number.POSITIVE_INFINITY;
      if (result.ok && completes && completedLeft === 1) return { kind: 'ok' };
      if (result.ok) {
        let fresh = true;
        if (memoize) {
          linearized.add(op);
          const key = linearized.key() + model.hash(result.next);
          if (memo.has(key)) {
            stats.memoHits++;
            linearized.remove(op);
            fresh = false;
          } else {
            memo.add(key);
            stats.memoEntries++;
          }
        }
        if (fresh) {
          stackNodes.push(node);
          stackStates.push(state);
          state = result.next;
          list.lift(node);
          if (completes) completedLeft--;
          node = list.next[0]!;
          continue;
        }
      }
      node = list.next[node]!;
      continue;
    }

    // A return event: its operation's deadline has passed without it being linearized, so
    // nothing further can be tried from this configuration.
    if (best === undefined || stackNodes.length > best.prefixOps.length) {
      best = {
        kind: 'illegal',
        prefixOps: stackNodes.map((n) => list.opOf[n]!),
        stuckOp: op,
        stateAfterPrefix: state,
      };
    }
    const undone = stackNodes.pop();
    if (undone === undefined) return best;
    state = stackStates.pop()!;
    const undoneOp = list.opOf[undone]!;
    if (memoize) linearized.remove(undoneOp);
    list.unlift(undone);
    if (ops[undoneOp]!.returnTime !== Number.POSITIVE_INFINITY) completedLeft++;
    node = list.next[undone]!;
  }
}
