// Vocabulary shared by the checker, the models and the recorder.

/**
 * One client call as observed from the outside.
 *
 * Times come from whatever clock recorded the history (virtual ticks in the simulator,
 * milliseconds from `performance.now()` in real-process tests); the checker only compares
 * them. Intervals are closed: an operation returning at t and one invoked at t count as
 * concurrent, because two clock reads in quick succession can return the same value even
 * when the events were causally ordered, and treating them as ordered would raise false
 * alarms.
 */
export interface Operation<Input, Output> {
  readonly clientId: number;
  readonly input: Input;
  /** `undefined` when the result is unknown (always so for an open operation). */
  readonly output: Output | undefined;
  readonly invokeTime: number;
  /**
   * `Infinity` for an operation that never returned (crash, timeout, lost reply). Such an
   * operation stays open: it may have taken effect at any moment after its invocation, or
   * never, and the checker tries both.
   */
  readonly returnTime: number;
}

export type StepResult<State> = { readonly ok: true; readonly next: State } | { readonly ok: false };

/** A named slice of a history that can be checked on its own (P-compositionality). */
export interface Partition<Input, Output> {
  readonly key: string;
  readonly operations: readonly Operation<Input, Output>[];
}

/**
 * Sequential specification of the object under test. All functions must be pure: the
 * search revisits states, so `step` must never mutate the state it is given.
 */
export interface Model<State, Input, Output> {
  init(): State;
  /**
   * Whether `input` may take effect in `state` producing `output`, and the state after it.
   * `output` is `undefined` when the outcome is unknown; the model must then accept every
   * outcome the operation could have had.
   */
  step(state: State, input: Input, output: Output | undefined): StepResult<State>;
  /**
   * Canonical encoding of a state: equal states must give equal strings and different
   * states different strings, since the memo trusts it without a separate equality check.
   */
  hash(state: State): string;
  /**
   * Splits a history into independently checkable pieces, e.g. one per key. A history must
   * be linearizable exactly when every piece is. Without it the whole history is one piece.
   */
  partition?(history: readonly Operation<Input, Output>[]): readonly Partition<Input, Output>[];
  describeOperation?(input: Input, output: Output | undefined): string;
  describeState?(state: State): string;
}

export function isOpen(op: Operation<unknown, unknown>): boolean {
  return op.returnTime === Number.POSITIVE_INFINITY;
}
