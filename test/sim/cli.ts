// `npm run sim`: runs the deterministic Raft simulator over a range of seeds and prints one
// line per failing seed (with the command that replays it) and a summary line. Exit status 1
// when any seed failed, 2 on bad flags.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { pathToFileURL } from 'node:url';
import { checkerLine, DEFAULT_STEPS, describeFailure, describeRun, failureKind, runBatch, summaryLine } from './batch.ts';
import { MUTATION_NAMES } from './simulation.ts';
import type { MutationName, SeedResult } from './simulation.ts';

function positiveInt(name: string, min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got '${value}'`);
    }
    return parsed;
  };
}

function nodeCount(value: string): number {
  if (value !== '3' && value !== '5') throw new InvalidArgumentError(`the simulator runs 3 or 5 voters, got '${value}'`);
  return Number(value);
}

interface Flags {
  seeds: number;
  from: number;
  nodes: number;
  steps: number;
  mutation?: MutationName;
  persistCheck: boolean;
  checkerBudget: number;
  verbose?: boolean;
  trace?: boolean;
}

const EXAMPLES = `
Examples:
  npm run sim -- --seeds 500 --from 1                 500 seeds, 3 nodes (what CI runs)
  npm run sim -- --seeds 200 --from 1 --nodes 5       5 voters
  npm run sim -- --seeds 1 --from 4242 --verbose      replay one seed and show its fault log
  npm run sim -- --seeds 1 --from 4242 --trace 2>t    every event of that run, to a file
  npm run sim -- --seeds 300 --mutation commitPreviousTermByCounting
                                                      plant a known bug: the run must fail

A failing seed prints one line with its replay command. The last line is always
  seeds=N from=S violations=V linearizability_failures=L elapsed_s=T
V counts seeds with a safety violation or no recovery in the quiet period; L counts seeds whose
client history is not linearizable (or could not be decided within the checker's budget).
The same seed, node count and steps always produce the same run (trace digest included).`;

function buildProgram(out: (text: string) => void, err: (text: string) => void): Command {
  return new Command('sim')
    .description('Deterministic Raft fault simulator: N nodes, lossy network, crashes that lose unsynced writes, membership changes, a KV workload checked for linearizability.')
    .configureOutput({ writeOut: out, writeErr: err })
    .exitOverride()
    .showHelpAfterError('(run `npm run sim -- --help` for the options and examples)')
    .option('--seeds <n>', 'how many seeds to run', positiveInt('--seeds', 1), 100)
    .option('--from <seed>', 'first seed', positiveInt('--from', 0), 1)
    .option('--nodes <n>', 'voters at the start: 3 or 5 (one spare node joins through membership changes)', nodeCount, 3)
    .option('--steps <ticks>', `ticks of the fault phase (a quiet period follows)`, positiveInt('--steps', 1), DEFAULT_STEPS)
    .addOption(new Option('--mutation <name>', 'enable a deliberately broken Raft variant (test-only)').choices(MUTATION_NAMES))
    .option('--no-persist-check', 'do not check at send time that votes and acks promise only durable state (see what else catches sendBeforePersist)')
    .option('--checker-budget <seconds>', 'wall-clock budget of each linearizability check; beyond it the seed counts as undecided', positiveInt('--checker-budget', 1), 10)
    .option('-v, --verbose', 'one line per seed, and the fault log of each failing seed')
    .option('--trace', 'write every event of the run to stderr (use with --seeds 1)')
    .addHelpText('after', EXAMPLES);
}

export function main(argv: readonly string[], out = (t: string) => process.stdout.write(t), err = (t: string) => process.stderr.write(t)): number {
  const program = buildProgram(out, err);
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const flags = program.opts<Flags>();
  if (flags.trace && flags.seeds !== 1) {
    err('sim: --trace prints every event and is meant for one seed; add --seeds 1\n');
    return 2;
  }
  const showNotes = flags.verbose === true || flags.seeds === 1;
  const onResult = (result: SeedResult): void => {
    if (flags.verbose) out(`${describeRun(result)}\n`);
    if (failureKind(result) === null) return;
    out(`${describeFailure(result)}\n`);
    if (!showNotes) return;
    out('  last faults and events:\n');
    for (const note of result.recentNotes) out(`    ${note}\n`);
    const timeline = result.linearizability.timeline;
    if (timeline !== undefined) out(`  history of the failing key (virtual ms):\n${timeline.replace(/^/gm, '    ')}\n`);
  };
  const summary = runBatch({
    from: flags.from,
    seeds: flags.seeds,
    nodeCount: flags.nodes,
    steps: flags.steps,
    ...(flags.mutation ? { mutation: flags.mutation } : {}),
    checkPersistBeforeSend: flags.persistCheck,
    checkerTimeoutMs: flags.checkerBudget * 1000,
    ...(flags.trace ? { onTrace: (line: string) => err(`${line}\n`) } : {}),
    onResult,
  });
  out(`${checkerLine(summary)}\n`);
  out(`${summaryLine(summary)}\n`);
  return summary.violations + summary.linearizabilityFailures === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
