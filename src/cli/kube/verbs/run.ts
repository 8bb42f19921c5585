// `bramble run`: the one-container Pod `kubectl run` creates (or prints, with --dry-run=client).
import { Option } from 'commander';
import type { Command } from 'commander';
import type { KubeObject } from '../../../api/resources/types.ts';
import { formatStructured, UsageError } from '../../output.ts';
import { KubeApi } from '../api.ts';
import { type CommonFlags, connect, type Io, parseCount, printingServerErrors, resolve, withConnectionFlags } from './common.ts';

export function registerRun(program: Command, io: Io): void {
  withConnectionFlags(program.command('run'))
    .description('start a pod running one container')
    .argument('<name>', 'pod name (also its container name and its run=<name> label)')
    .argument('[args...]', 'arguments for the container (after --), or the command with --command')
    .requiredOption('--image <image>', 'container image, e.g. nginx:1.27 or bramble-test/busybox:arm64')
    .option('--env <KEY=VALUE>', 'environment variable (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--port <port>', 'container port to expose', parseCount)
    .option('--labels <k=v,...>', 'labels instead of run=<name>')
    .addOption(new Option('--restart <policy>', 'pod restart policy').choices(['Always', 'OnFailure', 'Never']).default('Always'))
    .option('--command', 'the args after -- are the command, not arguments to the image entrypoint')
    .option('--dry-run <mode>', 'client: print the pod without creating it (with -o yaml|json)')
    .addOption(new Option('-o, --output <format>', 'print the pod as json or yaml').choices(['json', 'yaml']))
    .addHelpText(
      'after',
      `
Examples:
  bramble run web --image nginx:1.27 --port 80
  bramble run hello --image busybox --restart Never -- echo hello
  bramble run shell --image busybox --command -- sh -c 'sleep 3600'
  bramble run web --image nginx --env MODE=prod --dry-run=client -o yaml`,
    )
    .action(printingServerErrors(io, async (name: string, args: string[], flags: CommonFlags & { image: string; env: string[]; port?: number; labels?: string; restart: string; command?: boolean; dryRun?: string; output?: 'json' | 'yaml' }) => {
      const pod = runPod(name, args, flags);
      if (flags.dryRun !== undefined && flags.dryRun !== 'none') {
        if (flags.dryRun !== 'client') throw new UsageError(`--dry-run=${flags.dryRun}: only client is supported`);
        io.out(formatStructured(pod, flags.output ?? 'yaml'));
        return;
      }
      const { api, namespace } = connect(flags);
      const info = resolve('pods');
      const created = await api.request<KubeObject>('POST', KubeApi.path(info, namespace), { body: pod });
      io.out(flags.output === undefined ? `pod/${created.metadata.name ?? name} created\n` : formatStructured(created, flags.output));
    }));
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--labels "${text}": use key=value,key2=value2`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

/** The Pod `kubectl run` would create. Exported for its tests. */
export function runPod(name: string, args: readonly string[], flags: { image: string; env: string[]; port?: number; labels?: string; restart: string; command?: boolean }): KubeObject {
  const container: Record<string, unknown> = { name, image: flags.image };
  if (args.length > 0) container[flags.command === true ? 'command' : 'args'] = [...args];
  else if (flags.command === true) throw new UsageError('--command needs the command after --, e.g. --command -- sh -c "sleep 3600"');
  if (flags.env.length > 0) {
    container['env'] = flags.env.map((e) => {
      const eq = e.indexOf('=');
      if (eq <= 0) throw new UsageError(`--env "${e}": use KEY=VALUE`);
      return { name: e.slice(0, eq), value: e.slice(eq + 1) };
    });
  }
  if (flags.port !== undefined) container['ports'] = [{ containerPort: flags.port }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: flags.labels === undefined ? { run: name } : parseLabels(flags.labels) },
    spec: { containers: [container], restartPolicy: flags.restart },
  };
}
