// `bramble rollout status|history|undo|restart` for Deployments and DaemonSets (the views are in ../rollout.ts).
import type { Command } from 'commander';
import type { KubeList, KubeObject } from '../../../api/resources/types.ts';
import { UsageError } from '../../output.ts';
import { KubeApi } from '../api.ts';
import { daemonSetRolloutState, deploymentRolloutState, historyTable, restartPatch, type Revision, revisionsOf, undoPatch } from '../rollout.ts';
import { resourceName } from '../printer.ts';
import { type CommonFlags, connect, type Io, parseCount, printingServerErrors, resolve, targets, withConnectionFlags } from './common.ts';

export function registerRollout(program: Command, io: Io): void {
  const rollout = program.command('rollout').description('follow or restart the rollout of a Deployment or DaemonSet');
  withConnectionFlags(rollout.command('status'))
    .description('wait until the rollout is done, printing its progress')
    .argument('<type-and-name...>', 'deployment web, or deploy/web, or ds/agent')
    .option('--timeout <seconds>', 'give up after this long (default: wait forever)', parseCount)
    .option('--poll-ms <ms>', 'how often to read the object (default 1000)', parseCount)
    .addHelpText('after', '\nExamples:\n  bramble rollout status deployment/web\n  bramble rollout status deploy web --timeout 120\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags & { timeout?: number; pollMs?: number }) => {
      const { api, namespace } = connect(flags);
      for (const { info, names } of targets(args)) {
        const view = info.kind === 'Deployment' ? deploymentRolloutState : info.kind === 'DaemonSet' ? daemonSetRolloutState : undefined;
        if (view === undefined) throw new UsageError(`no rollout status for ${info.resource}: use a deployment or a daemonset`);
        if (names.length === 0) throw new UsageError(`say which ${info.singular}, e.g. bramble rollout status ${info.singular}/web`);
        for (const name of names) {
          const deadline = flags.timeout === undefined ? Infinity : Date.now() + flags.timeout * 1000;
          let last = '';
          for (;;) {
            const state = view(await api.request<KubeObject>('GET', KubeApi.path(info, namespace, name)));
            // A failed rollout is only the error line (exit 1), as kubectl prints it.
            if (state.failed === true) throw new Error(state.message);
            if (state.message !== last) io.out(`${state.message}\n`);
            last = state.message;
            if (state.done) break;
            if (Date.now() >= deadline) throw new Error('timed out waiting for the condition');
            await new Promise((r) => setTimeout(r, flags.pollMs ?? 1000));
          }
        }
      }
    }));
  const deploymentRevisions = async (api: KubeApi, namespace: string, name: string): Promise<{ deployment: KubeObject; revisions: Revision[] }> => {
    const deployments = resolve('deployments');
    const deployment = await api.request<KubeObject>('GET', KubeApi.path(deployments, namespace, name));
    const replicaSets = await api.request<KubeList>('GET', KubeApi.path(resolve('replicasets'), namespace));
    return { deployment, revisions: revisionsOf(deployment, replicaSets.items) };
  };
  const deploymentName = (args: string[]): string => {
    const [target] = targets(args);
    if (target === undefined || target.info.kind !== 'Deployment' || target.names.length !== 1) throw new UsageError('name one deployment, e.g. deployment/web');
    return target.names[0] ?? '';
  };
  withConnectionFlags(rollout.command('history'))
    .description("a Deployment's revisions (one per ReplicaSet it kept)")
    .argument('<type-and-name...>', 'deployment web, or deploy/web')
    .addHelpText('after', '\nExample:\n  bramble rollout history deployment/web\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags) => {
      const { api, namespace } = connect(flags);
      const name = deploymentName(args);
      const { revisions } = await deploymentRevisions(api, namespace, name);
      io.out(historyTable(name, revisions));
    }));
  withConnectionFlags(rollout.command('undo'))
    .description('roll a Deployment back to its previous (or a given) revision')
    .argument('<type-and-name...>', 'deployment web, or deploy/web')
    .option('--to-revision <n>', 'the revision to go back to (default: the previous one)', parseCount)
    .addHelpText('after', '\nExamples:\n  bramble rollout undo deployment/web\n  bramble rollout undo deploy/web --to-revision 2\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags & { toRevision?: number }) => {
      const { api, namespace } = connect(flags);
      const name = deploymentName(args);
      const { deployment, revisions } = await deploymentRevisions(api, namespace, name);
      const result = undoPatch(deployment, revisions, flags.toRevision);
      if ('error' in result) throw new Error(result.error);
      await api.request('PATCH', KubeApi.path(resolve('deployments'), namespace, name), { body: result.patch, contentType: 'application/json-patch+json' });
      io.out(`deployment.apps/${name} rolled back\n`);
    }));
  withConnectionFlags(rollout.command('restart'))
    .description('replace every pod of a Deployment or DaemonSet, one by one as its strategy says')
    .argument('<type-and-name...>', 'deployment web, or deploy/web')
    .addHelpText('after', '\nExample:\n  bramble rollout restart deployment/web\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags) => {
      const { api, namespace } = connect(flags);
      for (const { info, names } of targets(args)) {
        if (info.kind !== 'Deployment' && info.kind !== 'DaemonSet') throw new UsageError(`${info.resource} cannot be restarted: use a deployment or a daemonset`);
        if (names.length === 0) throw new UsageError(`say which ${info.singular}, e.g. bramble rollout restart ${info.singular}/web`);
        for (const name of names) {
          await api.request('PATCH', KubeApi.path(info, namespace, name), { body: restartPatch(new Date()), contentType: 'application/merge-patch+json' });
          io.out(`${resourceName({ apiVersion: info.apiVersion, kind: info.kind, metadata: { name } })} restarted\n`);
        }
      }
    }));
}
