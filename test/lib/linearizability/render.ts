// Plain-text timelines for failure messages: a reader should see from the intervals alone
// which operations overlapped and why no order works.
import type { IllegalPartition } from './checker.ts';
import { describeOperationOf, describeStateOf, formatTime } from './describe.ts';
import type { Model, Operation } from './model.ts';

/**
 * One line per operation, sorted by invocation time: `[invoke, return] client N  op`, plus
 * whatever `annotate` adds at the end of the line.
 */
export function renderHistory<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  annotate: (op: Operation<Input, Output>) => string = () => '',
): string {
  const sorted = [...operations].sort((a, b) => a.invokeTime - b.invokeTime || a.returnTime - b.returnTime);
  const intervals = sorted.map((op) => `[${formatTime(op.invokeTime)}, ${formatTime(op.returnTime)}]`);
  const intervalWidth = Math.max(0, ...intervals.map((text) => text.length));
  const clients = sorted.map((op) => `client ${op.clientId}`);
  const clientWidth = Math.max(0, ...clients.map((text) => text.length));
  const described = sorted.map((op) => describeOperationOf(model, op));
  const describedWidth = Math.max(0, ...described.map((text) => text.length));
  return sorted
    .map((op, i) => {
      const note = annotate(op);
      const line = `${intervals[i]!.padEnd(intervalWidth)}  ${clients[i]!.padEnd(clientWidth)}  ${
        note === '' ? described[i]! : `${described[i]!.padEnd(describedWidth)}  ${note}`
      }`;
      return line.trimEnd();
    })
    .join('\n');
}

/**
 * The failing partition with each operation of the longest prefix marked by its position
 * in that linearization and the operation that could not be placed flagged.
 */
export function renderIllegal<State, Input, Output>(
  model: Model<State, Input, Output>,
  illegal: IllegalPartition<State, Input, Output>,
): string {
  const position = new Map<Operation<Input, Output>, number>();
  illegal.longestPrefix.forEach((op, i) => position.set(op, i + 1));
  const header =
    (illegal.key === '' ? 'history' : `key ${JSON.stringify(illegal.key)}`) +
    `: not linearizable; longest linearizable prefix has ${illegal.longestPrefix.length} of ` +
    `${illegal.operations.length} operations (#n = position in it)`;
  const body = renderHistory(model, illegal.operations, (op) => {
    if (op === illegal.unplaced) return '<-- cannot be placed';
    const at = position.get(op);
    return at === undefined ? '' : `#${at}`;
  });
  const footer = `state after prefix: ${describeStateOf(model, illegal.stateAfterPrefix)}`;
  return `${header}\n${body}\n${footer}`;
}
