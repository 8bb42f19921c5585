// `bramble scale`: the scale subresource of a Deployment or ReplicaSet.
import type { Command } from 'commander';
import { UsageError } from '../../output.ts';
import { KubeApi } from '../api.ts';
import { resourceName } from '../printer.ts';
import { type CommonFlags, connect, type Io, parseCount, printingServerErrors, targets, withConnectionFlags } from './common.ts';

export function registerScale(program: Command, io: Io): void {
  withConnectionFlags(program.command('scale'))
    .description('set the replica count of a Deployment or ReplicaSet')
    .argument('<type-and-name...>', 'deployment web, or deploy/web')
    .requiredOption('--replicas <n>', 'the new number of replicas', parseCount)
    .addHelpText('after', '\nExamples:\n  bramble scale deployment web --replicas=3\n  bramble scale deploy/web --replicas 0\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags & { replicas: number }) => {
      const { api, namespace } = connect(flags);
      for (const { info, names } of targets(args)) {
        if (!info.subresources.includes('scale')) throw new UsageError(`${info.resource} cannot be scaled (deployments and replicasets can)`);
        if (names.length === 0) throw new UsageError(`say which ${info.resource} to scale, e.g. bramble scale ${info.singular} web --replicas=3`);
        for (const name of names) {
          await api.request('PATCH', KubeApi.path(info, namespace, name, 'scale'), { body: { spec: { replicas: flags.replicas } }, contentType: 'application/merge-patch+json' });
          io.out(`${resourceName({ apiVersion: info.apiVersion, kind: info.kind, metadata: { name } })} scaled\n`);
        }
      }
    }));
}
