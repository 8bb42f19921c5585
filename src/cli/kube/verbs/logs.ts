// `bramble logs`: a container's log from pods/log (-f, -c, --tail, --previous, --timestamps).
import type { Command } from 'commander';
import { KubeApi } from '../api.ts';
import { type CommonFlags, connect, type Io, parseCount, printingServerErrors, resolve, withConnectionFlags } from './common.ts';

export function registerLogs(program: Command, io: Io): void {
  withConnectionFlags(program.command('logs'))
    .description("print a pod container's logs")
    .argument('<pod>', 'pod name (or pod/NAME)')
    .option('-c, --container <name>', 'container (default: the only one)')
    .option('-f, --follow', 'keep streaming new lines')
    .option('--tail <lines>', 'only the last lines', parseCount)
    .option('-p, --previous', 'the previous, terminated instance of the container')
    .option('--timestamps', 'prefix each line with its time')
    .addHelpText('after', '\nExamples:\n  bramble logs web\n  bramble logs -f web -c sidecar\n  bramble logs web --tail 20 --previous\n')
    .action(printingServerErrors(io, async (pod: string, flags: CommonFlags & { container?: string; follow?: boolean; tail?: number; previous?: boolean; timestamps?: boolean }) => {
      const { api, namespace } = connect(flags);
      const name = pod.startsWith('pod/') ? pod.slice(4) : pod.startsWith('pods/') ? pod.slice(5) : pod;
      const query = {
        container: flags.container,
        follow: flags.follow === true ? 'true' : undefined,
        tailLines: flags.tail === undefined ? undefined : String(flags.tail),
        previous: flags.previous === true ? 'true' : undefined,
        timestamps: flags.timestamps === true ? 'true' : undefined,
      };
      await api.stream(KubeApi.path(resolve('pods'), namespace, name, 'log'), query, io.out);
    }));
}
