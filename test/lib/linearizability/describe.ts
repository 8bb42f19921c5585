// Fallback descriptions, so messages stay readable for models that define none.
import type { Model, Operation } from './model.ts';

function show(value: unknown): string {
  if (value === undefined) return '?';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function describeOperationOf<State, Input, Output>(
  model: Model<State, Input, Output>,
  op: Operation<Input, Output>,
): string {
  if (model.describeOperation) return model.describeOperation(op.input, op.output);
  return `${show(op.input)} -> ${show(op.output)}`;
}

export function describeStateOf<State, Input, Output>(model: Model<State, Input, Output>, state: State): string {
  return model.describeState ? model.describeState(state) : show(state);
}

export function formatTime(time: number): string {
  if (time === Number.POSITIVE_INFINITY) return 'open';
  return Number.isInteger(time) ? String(time) : time.toFixed(3);
}
