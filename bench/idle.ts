// npm run bench:idle -- [--duration 60] [--settle 5]
// A 3-member Bramble cluster and a 3-member etcd cluster, both up and idle at the same time (no
// client traffic at all during the window): per member RSS, CPU % and bytes written to disk
// (/proc/<pid>/io write_bytes, what the process sent to the block layer), extrapolated to an hour.
// Then (unless --full 0) 3 full `bramble up` nodes as a board runs them: the Kubernetes API, the
// node agent on the real Docker engine, the leader's control plane, production default timers,
// with a small Deployment Running: the same figures plus the store revisions made in the window
// and which keys they changed. Figures only: never fails on a number.
import { Kinds } from '../src/client/index.ts';
import { StoreClient } from '../src/store/client.ts';
import { fromUtf8, UNBOUNDED_RANGE_END } from '../src/store/index.ts';
import type { MemberStatus } from '../src/store/http-server.ts';
import { adminClient } from '../test/lib/api-node.ts';
import { type BrambleNode } from '../test/lib/bramble-cluster.ts';
import { isReadyPod, podsWithLabel, productionControlArgs, sleeperDeployment, startControlCluster } from '../test/lib/control-cluster.ts';
import { parseBenchFlags } from './lib/args.ts';
import { type BenchCluster, type BenchMember, defaultTimers, type SystemName, startSystem } from './lib/clusters.ts';
import { type ProcSample, sampleProcess } from './lib/proc.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, round } from './lib/stats.ts';
import { waitFor } from '../test/lib/wait.ts';

const flags = parseBenchFlags('npm run bench:idle --', 'Bramble vs etcd, 3 idle members each: RSS, CPU % and disk bytes written per hour per member.', [
  { name: 'duration', description: 'seconds of the measured idle window', defaultValue: 60, min: 5, max: 3_600 },
  { name: 'settle', description: 'seconds between the leader election and the window', defaultValue: 5, min: 0, max: 600 },
  { name: 'store', description: '1: measure the store-only clusters (Bramble vs etcd); 0: skip them', defaultValue: 1, min: 0, max: 1 },
  { name: 'full', description: '1: also measure 3 full nodes (API, agent on Docker, control plane, a Deployment); 0: store only', defaultValue: 1, min: 0, max: 1 },
  { name: 'replicas', description: 'replicas of the sleeping Deployment on the full nodes', defaultValue: 3, min: 0, max: 30 },
  { name: 'quiet', description: 'full nodes: seconds without a store revision that count as settled (waited for at most 180 s)', defaultValue: 20, min: 0, max: 170 },
], [
  'npm run bench:idle                        # a 60 s window',
  'npm run bench:idle -- --duration 600      # ten minutes, catches rarer periodic writes',
  'npm run bench:idle -- --full 0            # the store only (Bramble vs etcd), about 1.5 min',
  'npm run bench:idle -- --store 0           # the full nodes only, about 2 min',
]);
const systems: Setup[] = ['bramble', 'etcd', 'bramble-full'];
const rssSampleIntervalMs = 1_000;
const mib = 2 ** 20;

type Setup = SystemName | 'bramble-full';

interface MemberFigures {
  bench: 'idle';
  system: Setup;
  member: string;
  pid: number;
  windowSeconds: number;
  cpuPercent: number;
  rssMeanMiB: number;
  rssMaxMiB: number;
  writeBytes: number;
  writeBytesPerHour: number;
  /** Written from the process start (data dir creation, election) to the window: shows the counter is live. */
  writeBytesBeforeWindow: number;
  /** Lines the process logged in the window (stdout/stderr: on a board, journald writes them). */
  logLines: number;
  logBytes: number;
  /** The first few lines logged in the window, shortened. */
  logSample: string[];
}

interface Watched {
  system: Setup;
  member: Pick<BenchMember, 'name' | 'process'>;
}

/** Samples every member for the window; every cluster is idle meanwhile. */
async function measureWindow(watched: readonly Watched[]): Promise<MemberFigures[]> {
  const members = watched.map(({ system, member }) => ({ system, member, pid: member.process.pid!, samples: [] as ProcSample[], logAt: member.process.log.length }));
  const take = () => {
    for (const entry of members) entry.samples.push(sampleProcess(entry.pid));
  };
  const windowMs = flags.duration! * 1000;
  const startMs = performance.now();
  take();
  while (performance.now() - startMs < windowMs) {
    await sleep(Math.min(rssSampleIntervalMs, windowMs - (performance.now() - startMs)));
    take();
  }
  return members.map(({ system, member, pid, samples, logAt }) => {
    const logged = member.process.log.slice(logAt);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const elapsedMs = last.atMs - first.atMs;
    const rss = samples.map((sample) => sample.rssBytes);
    const written = last.writeBytes - first.writeBytes;
    return {
      bench: 'idle',
      system,
      member: member.name,
      pid,
      windowSeconds: round(elapsedMs / 1000),
      cpuPercent: round(((last.cpuMs - first.cpuMs) / elapsedMs) * 100),
      rssMeanMiB: round(rss.reduce((sum, value) => sum + value, 0) / rss.length / mib),
      rssMaxMiB: round(Math.max(...rss) / mib),
      writeBytes: written,
      writeBytesPerHour: Math.round((written * 3_600_000) / elapsedMs),
      writeBytesBeforeWindow: first.writeBytes,
      logLines: logged.length,
      logBytes: logged.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0),
      logSample: logged.slice(0, 5).map((line) => shorten(line, 200)),
    };
  });
}

const clusterMembers = (clusters: readonly BenchCluster[]): Watched[] => clusters.flatMap((cluster) => cluster.members.map((member) => ({ system: cluster.system, member })));

// --- full nodes: what the store revisions of the window changed ----------------------------------

interface KeyChange {
  key: string;
  /** Puts in the window (version difference; a delete and re-create counts the new generation's). */
  puts: number;
  deleted: boolean;
  /** JSON values: the leaf paths that differ between the two revisions (resourceVersion left out). */
  fields?: string[];
  /** Size of the last value: what each put of it carries through the Raft log and the MVCC store. */
  valueBytes?: number;
  /** The changed fields' old and new values, shortened (JSON-in-a-string values: keys added/removed). */
  detail?: string[];
}

function shorten(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** How one field changed, in a few words: `"1.5" -> "2"`, or for JSON-object strings the keys added and removed. */
function describeChange(path: string, was: unknown, now: unknown): string {
  const parseObject = (value: unknown): Record<string, unknown> | undefined => {
    if (typeof value !== 'string' || !value.startsWith('{')) return undefined;
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const [a, b] = [parseObject(was), parseObject(now)];
  if (a && b) {
    const added = Object.keys(b).filter((key) => !(key in a));
    const removed = Object.keys(a).filter((key) => !(key in b));
    return `${path}: +[${shorten(added.join(' '))}] -[${shorten(removed.join(' '))}]`;
  }
  return `${path}: ${shorten(JSON.stringify(was) ?? 'absent', 30)} -> ${shorten(JSON.stringify(now) ?? 'absent', 30)}`;
}

function at(value: unknown, path: string): unknown {
  // Paths are dotted, but annotation keys contain dots too: walk the longest matching key first.
  let current = value;
  let rest = path;
  while (rest !== '' && current !== null && typeof current === 'object') {
    const record = current as Record<string, unknown>;
    const key = Object.keys(record).filter((k) => rest === k || rest.startsWith(`${k}.`)).sort((x, y) => y.length - x.length)[0];
    if (key === undefined) return undefined;
    current = record[key];
    rest = rest.slice(key.length + 1);
  }
  return rest === '' ? current : undefined;
}

/** Leaf paths where two JSON values differ, e.g. `status.conditions.0.lastHeartbeatTime`. */
function differingPaths(a: unknown, b: unknown, path = '', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) differingPaths((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b) && path !== 'metadata.resourceVersion') {
    out.push(path);
  }
  return out;
}

async function jsonAt(store: StoreClient, key: string, revision: number): Promise<{ json: unknown; bytes: number }> {
  const value = await store.get(new TextEncoder().encode(key), { revision });
  if (!value) return { json: undefined, bytes: 0 };
  try {
    return { json: JSON.parse(fromUtf8(value)), bytes: value.length };
  } catch {
    return { json: undefined, bytes: value.length }; // not JSON (an encrypted Secret, a store-internal key)
  }
}

/** Every key with its version at `revision` (keys only). */
async function keyVersions(store: StoreClient, revision: number): Promise<Map<string, { version: number; createRevision: number }>> {
  const all = new Uint8Array([0]);
  const response = await store.range({ key: all, rangeEnd: UNBOUNDED_RANGE_END, keysOnly: true, revision, serializable: false });
  return new Map(response.kvs.map((kv) => [fromUtf8(kv.key), { version: kv.version, createRevision: kv.createRevision }]));
}

/** The keys changed between two revisions (per key: how many puts, whether it is gone). */
async function changedKeys(store: StoreClient, fromRevision: number, toRevision: number): Promise<KeyChange[]> {
  const before = await keyVersions(store, fromRevision);
  const after = await keyVersions(store, toRevision);
  const changes: KeyChange[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    const puts = was && was.createRevision === now.createRevision ? now.version - was.version : now.version;
    if (puts > 0) changes.push({ key, puts, deleted: false });
  }
  for (const key of before.keys()) if (!after.has(key)) changes.push({ key, puts: 0, deleted: true });
  for (const change of changes.filter((c) => !c.deleted).slice(0, 30)) {
    const [was, now] = await Promise.all([jsonAt(store, change.key, fromRevision), jsonAt(store, change.key, toRevision)]);
    change.valueBytes = now.bytes;
    if (now.json !== undefined) {
      change.fields = differingPaths(was.json, now.json);
      change.detail = change.fields.map((path) => describeChange(path, at(was.json, path), at(now.json, path)));
    }
  }
  return changes.sort((a, b) => b.puts - a.puts || a.key.localeCompare(b.key));
}

async function storeRevision(store: StoreClient): Promise<number> {
  return (await store.status<MemberStatus>()).revision;
}

/**
 * Waits until the store has made no revision for `quietMs` (the Deployment's rollout, the first
 * Node statuses and the image platforms written); gives up after `maxMs` and says so.
 */
async function waitUntilQuiet(store: StoreClient, quietMs: number, maxMs: number): Promise<{ waitedMs: number; quiet: boolean }> {
  const startedAt = performance.now();
  let revision = await storeRevision(store);
  let sameSince = performance.now();
  while (performance.now() - sameSince < quietMs) {
    if (performance.now() - startedAt > maxMs) return { waitedMs: round(performance.now() - startedAt), quiet: false };
    await sleep(500);
    const now = await storeRevision(store);
    if (now !== revision) {
      revision = now;
      sameSince = performance.now();
    }
  }
  return { waitedMs: round(performance.now() - startedAt), quiet: true };
}

interface FullResult {
  figures: MemberFigures[];
  revisions: number;
  changes: KeyChange[];
  settle: { waitedMs: number; quiet: boolean };
  podsReady: number;
}

async function measureFullNodes(): Promise<FullResult | undefined> {
  return withCluster('bench:idle full nodes', async (group) => {
    const nodes: BrambleNode[] = await startControlCluster(group, ['full1', 'full2', 'full3'], undefined, productionControlArgs);
    const api = adminClient(nodes[0]!.process.dataDir);
    const replicas = flags.replicas!;
    if (replicas > 0) {
      await api.create(Kinds.deployments, sleeperDeployment('idle', replicas));
      await waitFor(`${replicas} Ready pods`, async () => ((await podsWithLabel(api, 'app=idle')).filter(isReadyPod).length === replicas ? true : null), 180_000);
    }
    const store = new StoreClient({ endpoints: nodes.map((node) => node.clientAddress), timeoutMs: 5_000, tls: nodes[0]!.tls });
    try {
      const settle = await waitUntilQuiet(store, flags.quiet! * 1000, 180_000);
      const fromRevision = await storeRevision(store);
      const figures = await measureWindow(nodes.map((member) => ({ system: 'bramble-full', member })));
      const toRevision = await storeRevision(store);
      const changes = await changedKeys(store, fromRevision, toRevision);
      const podsReady = replicas > 0 ? (await podsWithLabel(api, 'app=idle')).filter(isReadyPod).length : 0;
      return { figures, revisions: toRevision - fromRevision, changes, settle, podsReady };
    } finally {
      store.close();
    }
  });
}

console.error(machineLine());
if (flags.store === 1) console.error(`both clusters idle side by side; ${flags.settle} s to settle after the election, then a ${flags.duration} s window; heartbeat ${defaultTimers.heartbeatMs} ms, election ${defaultTimers.electionMs} ms`);

// Nested so both clusters run at once and both are removed whatever happens.
const figures: MemberFigures[] | undefined = flags.store === 0 ? [] : await withCluster('bench:idle bramble', (brambleGroup) =>
  withCluster('bench:idle etcd', async (etcdGroup) => {
    const clusters = [await startSystem('bramble', brambleGroup, 3, defaultTimers), await startSystem('etcd', etcdGroup, 3, defaultTimers)];
    for (const cluster of clusters) await cluster.waitForLeader(30_000);
    await sleep(flags.settle! * 1000);
    return measureWindow(clusterMembers(clusters));
  }),
);

let full: FullResult | undefined;
if (flags.full === 1) {
  console.error(`full nodes: 3 \`bramble up\` with the API, the agent on Docker and the control plane (production default timers), a Deployment of ${flags.replicas} sleeping pods; settled after ${flags.quiet} s without a store revision, then a ${flags.duration} s window`);
  full = await measureFullNodes();
  if (full) figures?.push(...full.figures);
}

const rows: (string | number | null)[][] = [];
for (const entry of figures ?? []) console.log(JSON.stringify(entry));
for (const system of systems) {
  const mine = (figures ?? []).filter((entry) => entry.system === system);
  if (mine.length === 0) continue;
  const mean = (pick: (entry: MemberFigures) => number) => (mine.length ? mine.reduce((sum, entry) => sum + pick(entry), 0) / mine.length : Number.NaN);
  const max = (pick: (entry: MemberFigures) => number) => (mine.length ? Math.max(...mine.map(pick)) : Number.NaN);
  const summary = {
    bench: 'idle-summary',
    system,
    members: mine.length,
    cpuPercentMean: round(mean((entry) => entry.cpuPercent)),
    rssMeanMiB: round(mean((entry) => entry.rssMeanMiB)),
    rssMaxMiB: round(max((entry) => entry.rssMaxMiB)),
    writeBytesPerHourMean: Math.round(mean((entry) => entry.writeBytesPerHour)),
    writeBytesPerHourMax: max((entry) => entry.writeBytesPerHour),
    logBytesPerHourMean: Math.round(mean((entry) => (entry.logBytes * 3_600) / entry.windowSeconds)),
  };
  console.log(JSON.stringify(summary));
  rows.push([system, summary.members, summary.cpuPercentMean, summary.rssMeanMiB, summary.rssMaxMiB, round(summary.writeBytesPerHourMean / mib), round(summary.writeBytesPerHourMax / mib), round(summary.logBytesPerHourMean / 1024)]);
}
console.log('');
console.log(formatTable(['system', 'members', 'CPU % (mean/member)', 'RSS MiB (mean)', 'RSS MiB (max)', 'MiB written/h (mean/member)', 'MiB written/h (max member)', 'log KiB/h (mean/member)'], rows));
console.log('');
if (full) {
  const windowSeconds = full.figures[0]?.windowSeconds ?? flags.duration!;
  console.log(JSON.stringify({ bench: 'idle-full-store', settledAfterMs: full.settle.waitedMs, settled: full.settle.quiet, podsReady: full.podsReady, revisions: full.revisions, revisionsPerMinute: round((full.revisions * 60) / windowSeconds), changes: full.changes }));
  console.log(`full nodes: ${full.podsReady} of ${flags.replicas} pods Ready at the end; ${full.settle.quiet ? 'settled' : 'NOT settled (revisions kept coming)'} after ${Math.round(full.settle.waitedMs / 1000)} s; ${full.revisions} store revisions in the ${windowSeconds} s window (${round((full.revisions * 60) / windowSeconds)} per minute)`);
  if (full.changes.length > 0) console.log(formatTable(['key', 'puts in window', 'deleted', 'value bytes', 'fields changed (first vs last value)'], full.changes.slice(0, 30).map((change) => [change.key, change.puts, change.deleted ? 'yes' : '', change.valueBytes ?? '', (change.detail ?? []).join('; ')])));
  console.log('not counted: the Docker engine\'s and containerd\'s own writes (container logs, state), nor journald writing the log lines above');
  console.log('');
}
console.log('target: idle writes under 1 MB per hour per node');
