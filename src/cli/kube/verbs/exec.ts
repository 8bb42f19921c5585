// `bramble exec`: a command in a pod's container over pods/exec (see ../exec.ts); the exit code is the command's.
import type { Command } from 'commander';
import { KubeApi } from '../api.ts';
import { execInPod } from '../exec.ts';
import { type CommonFlags, connect, type Io, printingServerErrors, resolve, withConnectionFlags } from './common.ts';

export function registerExec(program: Command, io: Io): void {
  withConnectionFlags(program.command('exec'))
    .description('run a command in a container of a pod (pods/exec over WebSocket, v5.channel.k8s.io)')
    .argument('<pod>', 'pod name (or pod/NAME)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'container (default: the only one)')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'stdin is a terminal (use with -i for a shell)')
    .addHelpText('after', '\nExamples:\n  bramble exec web -- ls /\n  bramble exec -it web -c main -- sh\n  echo hi | bramble exec -i web -- cat\n\nThe exit code is the command\'s.\n')
    .action(printingServerErrors(io, async (pod: string, command: string[], flags: CommonFlags & { container?: string; stdin?: boolean; tty?: boolean }) => {
      const { api, namespace } = connect(flags);
      const name = pod.startsWith('pod/') ? pod.slice(4) : pod.startsWith('pods/') ? pod.slice(5) : pod;
      const stdin = process.stdin;
      const rawTty = flags.tty === true && flags.stdin === true && stdin.isTTY;
      if (rawTty) stdin.setRawMode(true);
      try {
        process.exitCode = await execInPod(api.http, KubeApi.path(resolve('pods'), namespace, name), {
          command,
          ...(flags.container !== undefined ? { container: flags.container } : {}),
          ...(flags.stdin === true ? { stdin } : {}),
          tty: flags.tty === true,
          terminalSize: () => (process.stdout.isTTY ? { columns: process.stdout.columns, rows: process.stdout.rows } : undefined),
          onResize: (listener) => {
            process.stdout.on('resize', listener);
            return () => process.stdout.off('resize', listener);
          },
          out: io.out,
          err: io.err,
        });
      } finally {
        if (rawTty) stdin.setRawMode(false);
      }
    }));
}
