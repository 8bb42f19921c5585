// kubectl's everyday verbs for Bramble: get, describe, create -f, apply -f, delete, scale, run, logs, exec,
// rollout status|restart|history|undo, top nodes|pods, api-resources, cluster-info. They speak HTTPS to any node's API with the kubeconfig (see kubeconfig.ts) and
// print what kubectl prints, using the server's Table for `get`.

import { Option } from 'commander';
import type { Command } from 'commander';
import { isDeepStrictEqual } from 'node:util';
import { applyStrategicMergePatch } from '../../api/resources/patch.ts';
import { findByKind, RESOURCES, resolveResourceArg } from '../../api/resources/catalog.ts';
import type { ResourceInfo } from '../../api/resources/catalog.ts';
import type { KubeList, KubeObject, Table } from '../../api/resources/types.ts';
import { formatStructured, UsageError } from '../output.ts';
import { KubeApi, KubeApiError, TABLE_ACCEPT } from './api.ts';
import { applyPatch, withLastApplied } from './apply-patch.ts';
import { execInPod } from './exec.ts';
import { describeObject } from './describe.ts';
import { daemonSetRolloutState, deploymentRolloutState, historyTable, restartPatch, revisionsOf, undoPatch } from './rollout.ts';
import type { Revision } from './rollout.ts';
import { topNodes, topPods } from './top.ts';
import type { EventSummary } from './describe.ts';
import { loadConnection } from './kubeconfig.ts';
import type { KubeconfigFlags } from './kubeconfig.ts';
import { readManifests } from './manifests.ts';
import { formatColumns, noResourcesMessage, printTable, resourceName } from './printer.ts';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface CommonFlags extends KubeconfigFlags {
  namespace?: string;
}

const GET_OUTPUTS = ['wide', 'json', 'yaml', 'name'] as const;
type GetOutput = (typeof GET_OUTPUTS)[number];

function withConnectionFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('-s, --server <url>', 'API server address, overriding the kubeconfig (e.g. https://127.0.0.1:6443)')
    .option('--token <token>', 'bearer token, overriding the kubeconfig user')
    .option('-n, --namespace <ns>', "namespace (default: the context's, else default)");
}

function connect(flags: CommonFlags): { api: KubeApi; namespace: string } {
  const connection = loadConnection(flags);
  return { api: new KubeApi(connection), namespace: flags.namespace ?? connection.namespace };
}

function resolve(arg: string): ResourceInfo {
  const info = resolveResourceArg(arg);
  if (info === undefined) throw new UsageError(`the server doesn't have a resource type "${arg}" (bramble api-resources lists them)`);
  return info;
}

/** "pods", "pods web db", "pod/web", "deploy/web svc/web", "pods,svc", "all". Exported for tests. */
export function targets(args: readonly string[]): { info: ResourceInfo; names: string[] }[] {
  const first = args[0];
  if (first === undefined) throw new UsageError('say what to act on, e.g. `pods`, `pods web` or `deployment/web`');
  if (first.includes('/')) {
    return args.map((a) => {
      const [type = '', name = ''] = a.split('/', 2);
      if (name === '' || !a.includes('/')) throw new UsageError(`"${a}": use TYPE/NAME for every argument when the first one is TYPE/NAME`);
      return { info: resolve(type), names: [name] };
    });
  }
  // "pods,svc" and categories ("all": what kubectl get all shows) expand to several types.
  const infos = first.split(',').flatMap((type) => {
    const inCategory = RESOURCES.filter((r) => r.group !== 'metrics.k8s.io' && r.categories.includes(type.toLowerCase()));
    return inCategory.length > 0 && resolveResourceArg(type) === undefined ? inCategory : [resolve(type)];
  });
  return infos.map((info) => ({ info, names: args.slice(1) }));
}

/** A list's items lack apiVersion and kind on the wire; kubectl fills them in. */
function fillKind(info: ResourceInfo, object: KubeObject): KubeObject {
  return { ...object, apiVersion: object.apiVersion ?? info.apiVersion, kind: object.kind ?? info.kind };
}

function parseGetOutput(value: string): GetOutput {
  if ((GET_OUTPUTS as readonly string[]).includes(value)) return value as GetOutput;
  throw new UsageError(`unknown output format "${value}": use one of ${GET_OUTPUTS.join(', ')}`);
}

export function registerKubeCommands(program: Command, io: Io): void {
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

  const fileOptions = (cmd: Command): Command =>
    withConnectionFlags(cmd)
      .option('-f, --filename <path...>', 'manifest file, directory, or - for stdin (repeatable)')
      .option('-R, --recursive', 'also read the subdirectories of -f directories');

  fileOptions(program.command('create'))
    .description('create the objects of manifests (fails for objects that exist; see apply)')
    .addHelpText('after', '\nExamples:\n  bramble create -f deployment.yaml\n  bramble create -f ./manifests/\n  cat pod.yaml | bramble create -f -\n')
    .action(printingServerErrors(io, async (flags: CommonFlags & { filename?: string[]; recursive?: boolean }) => {
      const manifests = readManifests(flags.filename ?? [], { recursive: flags.recursive === true });
      const { api, namespace } = connect(flags);
      await eachReportingFailures(io, manifests, async ({ object, source }) => {
        const info = mappingFor(object, source);
        const ns = object.metadata.namespace ?? namespace;
        const created = await api.request<KubeObject>('POST', KubeApi.path(info, ns), { body: object });
        io.out(`${resourceName(fillKind(info, created))} created\n`);
      });
    }));

  fileOptions(program.command('apply'))
    .description('create the objects of manifests, or bring existing ones in line with them')
    .addHelpText(
      'after',
      `
Examples:
  bramble apply -f deployment.yaml          # first time: created; after an edit: configured
  bramble apply -f ./manifests/ -R

As kubectl, apply records the manifest in the kubectl.kubernetes.io/last-applied-configuration
annotation: a field removed from the manifest is removed from the object at the next apply, fields
set by others stay. The patch is a strategic merge patch (containers merged by name, so server
defaults stay); an element removed from such a list is not removed.`,
    )
    .action(printingServerErrors(io, async (flags: CommonFlags & { filename?: string[]; recursive?: boolean }) => {
      const manifests = readManifests(flags.filename ?? [], { recursive: flags.recursive === true });
      const { api, namespace } = connect(flags);
      await eachReportingFailures(io, manifests, async ({ object, source }) => {
        const info = mappingFor(object, source);
        const ns = object.metadata.namespace ?? namespace;
        const name = object.metadata.name;
        if (name === undefined || name === '') throw new UsageError(`${source}: apply needs metadata.name`);
        let existing: KubeObject | undefined;
        try {
          existing = await api.request<KubeObject>('GET', KubeApi.path(info, ns, name));
        } catch (err) {
          if (!(err instanceof KubeApiError && err.code === 404)) throw err;
        }
        if (existing === undefined) {
          const created = await api.request<KubeObject>('POST', KubeApi.path(info, ns), { body: withLastApplied(object) });
          io.out(`${resourceName(fillKind(info, created))} created\n`);
          return;
        }
        const patch = applyPatch(existing, object);
        // Like kubectl, a patch that would change nothing is not sent.
        if (isDeepStrictEqual(applyStrategicMergePatch(info, existing, patch), existing)) {
          io.out(`${resourceName(fillKind(info, existing))} unchanged\n`);
          return;
        }
        const patched = await api.request<KubeObject>('PATCH', KubeApi.path(info, ns, name), { body: patch, contentType: 'application/strategic-merge-patch+json' });
        io.out(`${resourceName(fillKind(info, patched))} configured\n`);
      });
    }));

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

  const top = program.command('top').description("live CPU and memory use, from the agents' metrics (metrics.k8s.io)");
  withConnectionFlags(top.command('nodes').alias('node').alias('no'))
    .description('CPU and memory of each board, and their share of what it can allocate')
    .addHelpText('after', '\nExample:\n  bramble top nodes\n')
    .action(printingServerErrors(io, async (flags: CommonFlags) => {
      const { api } = connect(flags);
      const metrics = await api.request<KubeList>('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
      const nodes = await api.request<KubeList>('GET', '/api/v1/nodes');
      if (nodes.items.length === 0) io.err(noResourcesMessage(undefined));
      else io.out(topNodes(metrics.items, nodes.items));
    }));
  withConnectionFlags(top.command('pods').alias('pod').alias('po'))
    .description('CPU and memory of each pod (sum of its containers)')
    .option('-A, --all-namespaces', 'pods of every namespace')
    .option('-l, --selector <selector>', 'label selector')
    .addHelpText('after', '\nExamples:\n  bramble top pods\n  bramble top pods -A\n')
    .action(printingServerErrors(io, async (flags: CommonFlags & { allNamespaces?: boolean; selector?: string }) => {
      const { api, namespace } = connect(flags);
      const all = flags.allNamespaces === true;
      const path = all ? '/apis/metrics.k8s.io/v1beta1/pods' : `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`;
      const metrics = await api.request<KubeList>('GET', path, { query: { labelSelector: flags.selector } });
      if (metrics.items.length === 0) io.err(noResourcesMessage(all ? undefined : namespace));
      else io.out(topPods(metrics.items, all));
    }));

  withConnectionFlags(program.command('api-resources'))
    .description('the resource types the API serves (from its discovery documents)')
    .option('--namespaced <bool>', 'only namespaced (true) or cluster-scoped (false) types')
    .addHelpText('after', '\nExamples:\n  bramble api-resources\n  bramble api-resources --namespaced=false\n')
    .action(printingServerErrors(io, async (flags: CommonFlags & { namespaced?: string }) => {
      const { api } = connect(flags);
      interface ApiResource {
        name: string;
        shortNames?: string[];
        namespaced: boolean;
        kind: string;
      }
      const groupVersions: string[] = ['v1'];
      const groups = await api.request<{ groups: { preferredVersion?: { groupVersion: string }; versions: { groupVersion: string }[] }[] }>('GET', '/apis');
      for (const g of groups.groups) {
        const gv = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
        if (gv !== undefined) groupVersions.push(gv);
      }
      const rows: string[][] = [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']];
      for (const gv of groupVersions) {
        const list = await api.request<{ resources: ApiResource[] }>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
        for (const r of list.resources) {
          if (r.name.includes('/')) continue; // subresources are not listed
          if (flags.namespaced !== undefined && String(r.namespaced) !== flags.namespaced) continue;
          rows.push([r.name, (r.shortNames ?? []).join(','), gv, String(r.namespaced), r.kind]);
        }
      }
      io.out(formatColumns(rows));
    }));

  withConnectionFlags(program.command('cluster-info'))
    .description('where the API of the cluster answers')
    .action(printingServerErrors(io, async (flags: CommonFlags) => {
      const { api } = connect(flags);
      const version = await api.request<{ gitVersion?: string }>('GET', '/version');
      io.out(`Kubernetes control plane is running at ${api.connection.server}${version.gitVersion === undefined ? '' : ` (version ${version.gitVersion})`}\n`);
    }));
}

/** Calls `onLine` for each complete line of a stream that arrives in arbitrary pieces. */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') onLine(line);
      newline = pending.indexOf('\n');
    }
  };
}

/** Server errors are printed as kubectl prints them (no extra "error:" prefix), exit code 1. */
function printingServerErrors<A extends unknown[]>(io: Io, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      io.err(`${err.message}\n`);
      process.exitCode = 1;
    }
  };
}

/** Runs `work` for each item; a failure is printed and the others still run (exit code 1 at the end), as kubectl does for -f. */
async function eachReportingFailures<T>(io: Io, items: readonly T[], work: (item: T) => Promise<void>, ignore?: (err: unknown) => boolean): Promise<void> {
  let failed = 0;
  for (const item of items) {
    try {
      await work(item);
    } catch (err) {
      if (ignore?.(err) === true) continue;
      failed++;
      io.err(`${(err as Error).message}\n`);
    }
  }
  if (failed > 0) process.exitCode = 1;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`"${value}" is not a whole number >= 0`);
  return Number(value);
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

function mappingFor(object: KubeObject, source: string): ResourceInfo {
  const info = findByKind(object.apiVersion, object.kind);
  if (info === undefined) {
    throw new UsageError(`resource mapping not found for name: "${object.metadata.name ?? ''}" namespace: "${object.metadata.namespace ?? ''}" from "${source}": no matches for kind "${object.kind}" in version "${object.apiVersion}"`);
  }
  return info;
}
