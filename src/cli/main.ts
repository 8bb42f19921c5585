import { Command, CommanderError, Option } from 'commander';
import { buildInfo } from './build-info.ts';
import { formatStructured, parseOutputFormat, UsageError } from './output.ts';

export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function buildProgram(io: Io): Command {
  const program = new Command('bramble')
    .description(
      'Bramble: a container orchestrator for Raspberry Pi fleets that speaks the Kubernetes API.\n' +
        'Every board runs `bramble up`; you drive the cluster with `bramble` or with kubectl.',
    )
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run `bramble --help` to see the commands and their options)')
    .exitOverride();

  program
    .command('version')
    .description('print the Bramble version, git commit, Node.js version and CPU architecture')
    .addOption(new Option('-o, --output <format>', 'print as json or yaml').argParser(parseOutputFormat))
    .action((options: { output?: ReturnType<typeof parseOutputFormat> }) => {
      const info = buildInfo();
      if (options.output) {
        io.out(formatStructured(info, options.output));
        return;
      }
      io.out(
        `bramble ${info.version}\n` +
          `git commit: ${info.gitCommit}\n` +
          `node: ${info.nodeVersion}\n` +
          `platform: ${info.platform}/${info.arch}\n`,
      );
    });

  program
    .command('up')
    .description('run a Bramble node on this board (not available yet: see below)')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(() => {
      io.err(
        'bramble up: the node is not built yet.\n' +
          'When it is, this command will start a Bramble node on this machine: join or form the Raft\n' +
          'group that holds the cluster state (data in ./.bramble), serve the Kubernetes API, and run\n' +
          "this board's pods through Docker. Today only `bramble version` and `bramble --help` work.\n",
      );
      process.exitCode = exitCodes.failure;
    });

  return program;
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message; help and version requests are not failures.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') {
        return exitCodes.ok;
      }
      return exitCodes.usage;
    }
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n`);
      return exitCodes.usage;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodes.failure;
  }
}
