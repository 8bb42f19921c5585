// `bramble delete`: by names, TYPE/NAME, -l or -f; --ignore-not-found.
import type { Command } from 'commander';
import type { ResourceInfo } from '../../../api/resources/catalog.ts';
import type { KubeList } from '../../../api/resources/types.ts';
import { UsageError } from '../../output.ts';
import { KubeApi, KubeApiError } from '../api.ts';
import { readManifests } from '../manifests.ts';
import { noResourcesMessage, resourceName } from '../printer.ts';
import { type CommonFlags, connect, eachReportingFailures, fileOptions, type Io, mappingFor, printingServerErrors, targets } from './common.ts';

export function registerDelete(program: Command, io: Io): void {
  fileOptions(program.command('delete'))
    .description('delete objects by name, by label, or those of manifests')
    .argument('[type-and-names...]', 'a resource type then names, or TYPE/NAME ...')
    .option('-l, --selector <selector>', 'delete every object of the type matching this label selector')
    .option('--ignore-not-found', 'no error for objects that do not exist')
    .addHelpText('after', '\nExamples:\n  bramble delete pod web\n  bramble delete -f deployment.yaml\n  bramble delete pods -l app=web\n  bramble delete deploy/web svc/web\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags & { filename?: string[]; recursive?: boolean; selector?: string; ignoreNotFound?: boolean }) => {
      const work: { info: ResourceInfo; ns: string; name: string }[] = [];
      let api: KubeApi;
      let namespace: string;
      if (flags.filename !== undefined) {
        if (args.length > 0) throw new UsageError('give either -f or names, not both');
        const manifests = readManifests(flags.filename, { recursive: flags.recursive === true });
        ({ api, namespace } = connect(flags));
        for (const { object, source } of manifests) work.push({ info: mappingFor(object, source), ns: object.metadata.namespace ?? namespace, name: object.metadata.name ?? '' });
      } else {
        ({ api, namespace } = connect(flags));
        for (const { info, names } of targets(args)) {
          if (names.length === 0) {
            if (flags.selector === undefined) throw new UsageError(`say which ${info.resource} to delete: names, -l SELECTOR, or -f FILE`);
            const list = await api.request<KubeList>('GET', KubeApi.path(info, namespace), { query: { labelSelector: flags.selector } });
            for (const item of list.items) work.push({ info, ns: item.metadata.namespace ?? namespace, name: item.metadata.name ?? '' });
            if (list.items.length === 0) io.err(noResourcesMessage(info.namespaced ? namespace : undefined));
          } else for (const name of names) work.push({ info, ns: namespace, name });
        }
      }
      await eachReportingFailures(io, work, async ({ info, ns, name }) => {
        await api.request('DELETE', KubeApi.path(info, ns, name));
        io.out(`${resourceName({ apiVersion: info.apiVersion, kind: info.kind, metadata: {} }).slice(0, -1)} "${name}" deleted\n`);
      }, (err) => flags.ignoreNotFound === true && err instanceof KubeApiError && err.code === 404);
    }));
}
