// Sequential specification of the key-value store the Raft tests drive.
//
// Histories should write unique values (e.g. `${clientId}-${seq}`). The checker stays
// correct without that, but a repeated value makes reads ambiguous, which both hides
// violations and multiplies the orderings the search must try.
import type { Model, Operation, Partition, StepResult } from './model.ts';

export type KvInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  /** `expected: null` means "only if the key is absent". */
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string };

/**
 * `get` returns the value or `null` for an absent key, `cas` returns whether it swapped,
 * `put` and `delete` return `null`. `undefined` (see Operation) means the result is unknown.
 */
export type KvOutput = string | boolean | null;

/** Values by key; absent keys are simply missing. Never mutated: steps build a new map. */
export type KvState = ReadonlyMap<string, string>;

export type KvOperation = Operation<KvInput, KvOutput>;

function withValue(state: KvState, key: string, value: string | null): KvState {
  const next = new Map(state);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

function step(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
  const current = state.get(input.key) ?? null;
  switch (input.kind) {
    case 'get':
      // A read with unknown result constrains nothing.
      if (output === undefined || output === current) return { ok: true, next: state };
      return { ok: false };
    case 'put':
      return { ok: true, next: withValue(state, input.key, input.value) };
    case 'delete':
      return { ok: true, next: withValue(state, input.key, null) };
    case 'cas': {
      const swaps = current === input.expected;
      if (output !== undefined && output !== swaps) return { ok: false };
      return { ok: true, next: swaps ? withValue(state, input.key, input.value) : state };
    }
  }
}

function partition(history: readonly KvOperation[]): Partition<KvInput, KvOutput>[] {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    // Dropping reads without a result shrinks the search; they can be linearized anywhere.
    if (op.input.kind === 'get' && op.output === undefined) continue;
    const ops = byKey.get(op.input.key);
    if (ops) ops.push(op);
    else byKey.set(op.input.key, [op]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, operations]) => ({ key, operations }));
}

function showValue(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

function showResult(output: KvOutput | undefined): string {
  if (output === undefined) return '?';
  return typeof output === 'boolean' ? String(output) : showValue(output);
}

function describeOperation(input: KvInput, output: KvOutput | undefined): string {
  switch (input.kind) {
    case 'get':
      return `get(${input.key}) -> ${showResult(output)}`;
    case 'put':
      return `put(${input.key}, ${showValue(input.value)})${output === undefined ? ' -> ?' : ''}`;
    case 'delete':
      return `delete(${input.key})${output === undefined ? ' -> ?' : ''}`;
    case 'cas':
      return `cas(${input.key}, ${showValue(input.expected)} => ${showValue(input.value)}) -> ${showResult(output)}`;
  }
}

function describeState(state: KvState): string {
  if (state.size === 0) return '{}';
  const entries = [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, value]) => `${key}: ${showValue(value)}`).join(', ')}}`;
}

/**
 * Register-per-key model, partitioned by key. Within one partition the state holds at most
 * that key, so the memo stays small.
 */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => new Map<string, string>(),
  step,
  hash: (state) => JSON.stringify([...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  partition,
  describeOperation,
  describeState,
};
