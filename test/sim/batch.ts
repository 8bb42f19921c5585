// Many seeds in a row, and the words for what went wrong in one. The CLI and the node:test
// files share this, so a failing seed in CI prints the same replay line a developer types.

import { runSeed } from './simulation.ts';
import type { MutationName, SeedResult } from './simulation.ts';

export const DEFAULT_STEPS = 1000;

export interface BatchOptions {
  from: number;
  seeds: number;
  nodeCount: number;
  steps: number;
  mutation?: MutationName;
  /** Wall-clock budget of each linearizability check (default: the simulation's, 10 s). */
  checkerTimeoutMs?: number;
  /** Default true; see SimOptions.checkPersistBeforeSend. */
  checkPersistBeforeSend?: boolean;
  /** Stop at the first failing seed (mutation hunts). */
  stopAtFirstFailure?: boolean;
  /** Receives every trace record of every run as a line (--trace). */
  onTrace?: (line: string) => void;
  /** Called after every seed, in seed order. */
  onResult?: (result: SeedResult) => void;
}

export interface BatchSummary {
  seeds: number;
  from: number;
  /** Seeds with a safety violation or that did not recover in the quiet period. */
  violations: number;
  /** Seeds whose client history is not linearizable or could not be decided. */
  linearizabilityFailures: number;
  elapsedS: number;
  failures: SeedResult[];
  /** Seeds actually run (fewer than `seeds` when stopped at a failure). */
  ran: number;
  /** Client operations checked, and the slowest linearizability check (wall ms). */
  operations: number;
  checkerMaxMs: number;
}

export type FailureKind = 'safety' | 'liveness' | 'linearizability';

/** Why a seed failed, or null when it passed. */
export function failureKind(result: SeedResult): FailureKind | null {
  if (result.violation !== null) return 'safety';
  if (result.linearizability.result !== 'ok' && result.linearizability.result !== 'skipped') return 'linearizability';
  if (!result.liveness.ok) return 'liveness';
  return null;
}

export function replayCommand(result: Pick<SeedResult, 'seed' | 'nodeCount' | 'steps' | 'mutation' | 'checkPersistBeforeSend'>): string {
  const mutation = result.mutation === null ? '' : ` --mutation ${result.mutation}`;
  const persistCheck = result.checkPersistBeforeSend ? '' : ' --no-persist-check';
  return `npm run sim -- --seeds 1 --from ${result.seed} --nodes ${result.nodeCount} --steps ${result.steps}${mutation}${persistCheck}`;
}

/** One line: what failed, where, and the command that replays it. */
export function describeFailure(result: SeedResult): string {
  const kind = failureKind(result);
  let what: string;
  if (result.violation !== null) {
    const v = result.violation;
    what = `${v.invariant} on ${v.nodeId} at step ${v.step}: ${v.detail}`;
  } else if (kind === 'linearizability') {
    const l = result.linearizability;
    const hint = l.result === 'unknown' ? ' (add --checker-budget 120 to the replay to decide it)' : '';
    what = `linearizability ${l.result} over ${l.operations} operations: ${l.detail}${hint}`;
  } else {
    what = `liveness: ${result.liveness.detail}`;
  }
  return `FAIL seed=${result.seed} nodes=${result.nodeCount} ${what} | replay: ${replayCommand(result)}`;
}

/** One line per seed for --verbose: what the run did. */
export function describeRun(result: SeedResult): string {
  const s = result.stats;
  const status = failureKind(result) ?? 'ok';
  return (
    `seed=${result.seed} ${status} leaders=${s.leaders} crashes=${s.crashes} lost_writes=${s.lostWrites} ` +
    `conf_changes=${s.confChangesApplied} snapshots=${s.snapshotsInstalled} committed=${s.committedEntries} ` +
    `ops=${result.linearizability.operations} open=${s.opsOpen} events=${s.events} trace=${result.traceDigest}`
  );
}

/** Figures for the line before the summary: how much history was checked, the slowest check. */
export function checkerLine(summary: BatchSummary): string {
  return `checked operations=${summary.operations} slowest_check_ms=${Math.ceil(summary.checkerMaxMs)}`;
}

export function summaryLine(summary: BatchSummary): string {
  return (
    `seeds=${summary.seeds} from=${summary.from} violations=${summary.violations} ` +
    `linearizability_failures=${summary.linearizabilityFailures} elapsed_s=${summary.elapsedS.toFixed(1)}`
  );
}

export function runBatch(options: BatchOptions): BatchSummary {
  const started = performance.now();
  const summary: BatchSummary = { seeds: options.seeds, from: options.from, violations: 0, linearizabilityFailures: 0, elapsedS: 0, failures: [], ran: 0, operations: 0, checkerMaxMs: 0 };
  for (let seed = options.from; seed < options.from + options.seeds; seed++) {
    const runOptions = {
      seed,
      nodeCount: options.nodeCount,
      steps: options.steps,
      ...(options.mutation ? { mutation: options.mutation } : {}),
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
      ...(options.checkPersistBeforeSend === false ? { checkPersistBeforeSend: false } : {}),
      ...(options.checkerTimeoutMs !== undefined ? { checkerTimeoutMs: options.checkerTimeoutMs } : {}),
    };
    const result = runSeed(runOptions);
    summary.ran++;
    summary.operations += result.linearizability.operations;
    summary.checkerMaxMs = Math.max(summary.checkerMaxMs, result.linearizability.elapsedMs);
    const kind = failureKind(result);
    if (kind === 'linearizability') summary.linearizabilityFailures++;
    else if (kind !== null) summary.violations++;
    if (kind !== null) summary.failures.push(result);
    options.onResult?.(result);
    if (kind !== null && options.stopAtFirstFailure) break;
  }
  summary.elapsedS = (performance.now() - started) / 1000;
  return summary;
}
