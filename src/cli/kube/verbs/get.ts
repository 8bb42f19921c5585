// `bramble get`: the server's Table in kubectl's columns, -o json|yaml|name, and -w (the list, then each change).
import { Option } from 'commander';
import type { Command } from 'commander';
import type { KubeList, KubeObject, Table } from '../../../api/resources/types.ts';
import { formatStructured, UsageError } from '../../output.ts';
import { KubeApi, TABLE_ACCEPT } from '../api.ts';
import { noResourcesMessage, printTable, resourceName } from '../printer.ts';
import { type CommonFlags, connect, fillKind, type Io, lineSplitter, printingServerErrors, targets, withConnectionFlags } from './common.ts';

const GET_OUTPUTS = ['wide', 'json', 'yaml', 'name'] as const;
type GetOutput = (typeof GET_OUTPUTS)[number];

function parseGetOutput(value: string): GetOutput {
  if ((GET_OUTPUTS as readonly string[]).includes(value)) return value as GetOutput;
  throw new UsageError(`unknown output format "${value}": use one of ${GET_OUTPUTS.join(', ')}`);
}

export function registerGet(program: Command, io: Io): void {
  withConnectionFlags(program.command('get'))
    .description('list objects, or show some by name, in kubectl\'s columns')
    .argument('<type-and-names...>', 'a resource type (pods, po, deploy, deployments.apps, ...), then names; or TYPE/NAME ...')
    .option('-A, --all-namespaces', 'list across all namespaces (adds a NAMESPACE column)')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db or "env in (prod,test)"')
    .option('--field-selector <selector>', 'field selector, e.g. status.phase=Running or spec.nodeName=pi-1')
    .option('--no-headers', 'no header line')
    .option('-w, --watch', 'after the list, print each change as it happens (Ctrl-C to stop)')
    .addOption(new Option('-o, --output <format>', 'wide, json, yaml or name').argParser(parseGetOutput))
    .addHelpText(
      'after',
      `
Examples:
  bramble get nodes -o wide
  bramble get pods -A
  bramble get deploy web -o yaml
  bramble get pods -l app=web --field-selector status.phase=Running
  bramble get pod/web svc/web -o name
  bramble get pods -w
  bramble get all
  bramble get deploy,svc -n class-a`,
    )
    .action(printingServerErrors(io, async (args: string[], flags: CommonFlags & { allNamespaces?: boolean; selector?: string; fieldSelector?: string; headers: boolean; watch?: boolean; output?: GetOutput }) => {
      const { api, namespace } = connect(flags);
      const all = flags.allNamespaces === true;
      const structured = flags.output === 'json' || flags.output === 'yaml' || flags.output === 'name';
      const collected: KubeObject[] = [];
      let printed = 0;
      const targetList = targets(args);
      for (const { info, names } of targetList) {
        const ns = all ? undefined : namespace;
        const query = { labelSelector: flags.selector, fieldSelector: flags.fieldSelector };
        if (structured) {
          if (names.length === 0) {
            const list = await api.request<KubeList>('GET', KubeApi.path(info, ns), { query });
            collected.push(...list.items.map((o) => fillKind(info, o)));
          } else for (const name of names) collected.push(fillKind(info, await api.request<KubeObject>('GET', KubeApi.path(info, ns, name))));
          continue;
        }
        const tables: Table[] = [];
        if (names.length === 0) tables.push(await api.request<Table>('GET', KubeApi.path(info, ns), { query: { ...query, includeObject: 'Metadata' }, accept: TABLE_ACCEPT }));
        else for (const name of names) tables.push(await api.request<Table>('GET', KubeApi.path(info, ns, name), { query: { includeObject: 'Metadata' }, accept: TABLE_ACCEPT }));
        const rows = tables.flatMap((t) => t.rows);
        const first = tables[0];
        if (first === undefined || first.kind !== 'Table') throw new Error('the server did not answer with a Table; try -o yaml');
        const tableOptions = { wide: flags.output === 'wide', withNamespace: all && info.namespaced };
        if (rows.length > 0) {
          // With several types, kubectl names rows kind/name and separates the tables by a blank line.
          const several = targetList.length > 1;
          const nameColumn = first.columnDefinitions.findIndex((c) => c.name.toLowerCase() === 'name');
          const shownRows = several && nameColumn >= 0 ? rows.map((r) => ({ ...r, cells: r.cells.map((c, i) => (i === nameColumn ? resourceName({ apiVersion: info.apiVersion, kind: info.kind, metadata: { name: String(c) } }) : c)) })) : rows;
          io.out(`${printed > 0 ? '\n' : ''}${printTable({ ...first, rows: shownRows }, { ...tableOptions, noHeaders: !flags.headers })}`);
          printed += rows.length;
        }
        if (flags.watch === true) {
          if (rows.length === 0) io.err(noResourcesMessage(ns));
          // Each event carries a one-row Table; kubectl prints it as a line under the list.
          const watchQuery = { ...query, watch: '1', resourceVersion: first.metadata.resourceVersion, includeObject: 'Metadata', fieldSelector: names.length === 1 ? `metadata.name=${names[0] ?? ''}` : query.fieldSelector };
          const lines = lineSplitter((line) => {
            const event = JSON.parse(line) as { type: string; object: Table | KubeObject };
            if (event.type === 'ERROR') throw new Error(`watch ended: ${JSON.stringify(event.object)}`);
            if (event.type === 'BOOKMARK') return;
            if (event.object.kind === 'Table') io.out(printTable({ ...(event.object as Table), columnDefinitions: first.columnDefinitions }, { ...tableOptions, noHeaders: true }));
            else io.out(`${resourceName(fillKind(info, event.object as KubeObject))}   ${event.type}\n`);
          });
          await api.stream(KubeApi.path(info, ns), watchQuery, lines, TABLE_ACCEPT);
          return;
        }
      }
      if (structured) {
        if (flags.output === 'name') io.out(collected.map((o) => `${resourceName(o)}\n`).join(''));
        else if (flags.output !== undefined) {
          const single = collected.length === 1 && targets(args).every((t) => t.names.length > 0);
          io.out(formatStructured(single ? collected[0] : { apiVersion: 'v1', kind: 'List', items: collected, metadata: { resourceVersion: '' } }, flags.output === 'json' ? 'json' : 'yaml'));
        }
        return;
      }
      if (printed === 0) io.err(noResourcesMessage(all ? undefined : namespace));
    }));
}
