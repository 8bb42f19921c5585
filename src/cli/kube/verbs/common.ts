// What every kubectl-style verb shares: the connection flags, the TYPE/NAME arguments, printing
// server errors as kubectl does, and reporting failures per item. Each verb is a file beside this.
import type { Command } from 'commander';
import { findByKind, RESOURCES, resolveResourceArg } from '../../../api/resources/catalog.ts';
import type { ResourceInfo } from '../../../api/resources/catalog.ts';
import type { KubeObject } from '../../../api/resources/types.ts';
import { UsageError } from '../../output.ts';
import { KubeApi, KubeApiError } from '../api.ts';
import { loadConnection } from '../kubeconfig.ts';
import { readManifests } from '../manifests.ts';
import type { KubeconfigFlags } from '../kubeconfig.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface CommonFlags extends KubeconfigFlags {
  namespace?: string;
}

export function withConnectionFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('-s, --server <url>', 'API server address, overriding the kubeconfig (e.g. https://127.0.0.1:6443)')
    .option('--token <token>', 'bearer token, overriding the kubeconfig user')
    .option('-n, --namespace <ns>', "namespace (default: the context's, else default)");
}

export function connect(flags: CommonFlags): { api: KubeApi; namespace: string } {
  const connection = loadConnection(flags);
  return { api: new KubeApi(connection), namespace: flags.namespace ?? connection.namespace };
}

export function resolve(arg: string): ResourceInfo {
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
export function fillKind(info: ResourceInfo, object: KubeObject): KubeObject {
  return { ...object, apiVersion: object.apiVersion ?? info.apiVersion, kind: object.kind ?? info.kind };
}

export interface FileFlags extends CommonFlags {
  filename?: string[];
  recursive?: boolean;
}

/** One object of the -f manifests, with its resource type, its namespace and the connection. */
export interface Manifest {
  object: KubeObject;
  source: string;
  info: ResourceInfo;
  ns: string;
  api: KubeApi;
}

/** create and apply: reads the -f manifests and runs `work` on each; a failure is reported and the others still run. */
export async function eachManifest(io: Io, flags: FileFlags, work: (manifest: Manifest) => Promise<void>): Promise<void> {
  const manifests = readManifests(flags.filename ?? [], { recursive: flags.recursive === true });
  const { api, namespace } = connect(flags);
  await eachReportingFailures(io, manifests, async ({ object, source }) => work({ object, source, info: mappingFor(object, source), ns: object.metadata.namespace ?? namespace, api }));
}

/** -f/-R for the verbs that read manifests (create, apply, delete). */
export function fileOptions(cmd: Command): Command {
  return withConnectionFlags(cmd)
    .option('-f, --filename <path...>', 'manifest file, directory, or - for stdin (repeatable)')
    .option('-R, --recursive', 'also read the subdirectories of -f directories');
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
export function printingServerErrors<A extends unknown[]>(io: Io, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
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
export async function eachReportingFailures<T>(io: Io, items: readonly T[], work: (item: T) => Promise<void>, ignore?: (err: unknown) => boolean): Promise<void> {
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

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`"${value}" is not a whole number >= 0`);
  return Number(value);
}

export function mappingFor(object: KubeObject, source: string): ResourceInfo {
  const info = findByKind(object.apiVersion, object.kind);
  if (info === undefined) {
    throw new UsageError(`resource mapping not found for name: "${object.metadata.name ?? ''}" namespace: "${object.metadata.namespace ?? ''}" from "${source}": no matches for kind "${object.kind}" in version "${object.apiVersion}"`);
  }
  return info;
}
