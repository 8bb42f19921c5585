// `bramble describe`: objects in detail (see ../describe.ts) with their events.
import type { Command } from 'commander';
import type { KubeList, KubeObject } from '../../../api/resources/types.ts';
import { KubeApi } from '../api.ts';
import { describeObject, type EventSummary } from '../describe.ts';
import { noResourcesMessage } from '../printer.ts';
import { type CommonFlags, connect, fillKind, type Io, printingServerErrors, resolve, targets, withConnectionFlags } from './common.ts';

export function registerDescribe(program: Command, io: Io): void {
  withConnectionFlags(program.command('describe'))
    .description('show objects in detail, with their events')
    .argument('<type-and-names...>', 'a resource type then names (all of the type when none), or TYPE/NAME ...')
    .option('-l, --selector <selector>', 'label selector when no names are given')
    .addHelpText('after', '\nExamples:\n  bramble describe pod web\n  bramble describe deploy/web\n  bramble describe nodes\n')
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags & { selector?: string }) => {
      const { api, namespace } = connect(flags);
      const pages: string[] = [];
      for (const { info, names } of targets(args)) {
        const objects: KubeObject[] = [];
        if (names.length === 0) {
          const list = await api.request<KubeList>('GET', KubeApi.path(info, namespace), { query: { labelSelector: flags.selector } });
          objects.push(...list.items.map((o) => fillKind(info, o)));
        } else for (const name of names) objects.push(fillKind(info, await api.request<KubeObject>('GET', KubeApi.path(info, namespace, name))));
        for (const object of objects) {
          let events: EventSummary[] | undefined;
          try {
            const selector = `involvedObject.name=${object.metadata.name ?? ''},involvedObject.kind=${object.kind}`;
            const list = await api.request<{ items: EventSummary[] }>('GET', KubeApi.path(resolve('events'), object.metadata.namespace ?? namespace), { query: { fieldSelector: selector } });
            events = list.items;
          } catch {
            events = undefined; // a server without that field selector: the page is printed without events
          }
          pages.push(describeObject(object, events));
        }
        if (objects.length === 0) io.err(noResourcesMessage(info.namespaced ? namespace : undefined));
      }
      io.out(pages.join('\n\n'));
    }));
}
