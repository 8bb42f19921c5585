// The one list-and-watch cache (src/client/cache) over the in-process Client on a real
// single-member Raft node (LevelDB log and store): the handler sequence, index upkeep, a relist
// after a real 410 (the store compacted the history the watch needed), retries of a failed
// list with backoff, and stop.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { after, before, test } from 'node:test';
import { type CacheLogger, type EventType, type ListWatch, clientListWatch, Informer, keyOf, ObjectInformer, revisionOf } from '../../../src/client/cache/index.ts';
import { apiFeeds } from '../../../src/client/cache/index.ts';
import { HttpClient, InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { startApi } from '../../../src/api/start.ts';
import { freePort } from '../../lib/ports.ts';
import { pod } from '../../lib/objects.ts';
import { type InProcessNode, startInProcessNode } from '../../lib/inprocess-node.ts';
import { waitFor } from '../../lib/wait.ts';

let n: InProcessNode;
let client: InProcessClient;

before(async () => {
  n = await startInProcessNode('cache');
  client = new InProcessClient(n.registry);
  await client.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
});
after(async () => n.stop());

/** A logger that keeps its lines, to check what the cache said. */
function recordingLogger(): { lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> } & CacheLogger {
  const lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj: obj as Record<string, unknown> });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

type Seen = `${EventType} ${string}`;

function record(informer: Informer<KubeObject>): Seen[] {
  const seen: Seen[] = [];
  informer.on((type, obj) => seen.push(`${type} ${obj.metadata.name ?? ''}`));
  return seen;
}

async function clearPods(): Promise<void> {
  for (const p of (await client.list(Kinds.pods)).items) await client.delete(Kinds.pods, 'default', p.metadata.name ?? '', { gracePeriodSeconds: 0 });
}

test('handlers see add, update and delete in order; an index follows every change; hasSynced after the first list', async () => {
  await clearPods();
  await client.create(Kinds.pods, pod('before', { node: 'n1' }));
  const logger = recordingLogger();
  const informer = new ObjectInformer(client, Kinds.pods, { logger });
  informer.addIndex('node', (p) => [(p['spec'] as { nodeName?: string }).nodeName ?? '']);
  const seen = record(informer);
  assert.equal(informer.hasSynced(), false);
  await informer.start();
  try {
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(seen, ['add before']);
    await client.create(Kinds.pods, pod('a', { node: 'n1' }));
    const b = await client.create(Kinds.pods, pod('b', { node: 'n2' }));
    await client.update(Kinds.pods, { ...b, metadata: { ...b.metadata, labels: { moved: 'yes' } } });
    await client.delete(Kinds.pods, 'default', 'before', { gracePeriodSeconds: 0 });
    await waitFor('four more events', () => seen.length === 5 || undefined);
    assert.deepEqual(seen, ['add before', 'add a', 'add b', 'update b', 'delete before']);
    assert.deepEqual(informer.byIndex('node', 'n1').map((p) => p.metadata.name), ['a']);
    assert.deepEqual(informer.byIndex('node', 'n2').map((p) => p.metadata.labels), [{ moved: 'yes' }]);
    assert.equal(informer.get('default/before'), undefined);
    assert.deepEqual(logger.lines, [], 'nothing to report');
  } finally {
    informer.stop();
  }
});

test('a watch that gets 410 after a compaction lists again and reports what changed meanwhile', async () => {
  await clearPods();
  await client.create(Kinds.pods, pod('stays'));
  await client.create(Kinds.pods, pod('goes'));
  // The real source, with the first watch held back until the test has changed and compacted the
  // store: the watch then starts from a revision the store no longer has, as a slow one would.
  const real = clientListWatch(client, Kinds.pods);
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  let watches = 0;
  const source: ListWatch<KubeObject> = {
    list: () => real.list(),
    watch: async (revision, onChange, onEnd) => {
      if (watches++ === 0) await held;
      return real.watch(revision, onChange, onEnd);
    },
  };
  const logger = recordingLogger();
  const informer = new Informer(source, { name: 'pods', key: keyOf, revision: revisionOf, logger, backoff: { baseMs: 10 } });
  const seen = record(informer);
  await informer.start();
  try {
    assert.deepEqual(seen.sort(), ['add goes', 'add stays']);
    await client.delete(Kinds.pods, 'default', 'goes', { gracePeriodSeconds: 0 });
    await client.create(Kinds.pods, pod('new'));
    const stays = await client.get(Kinds.pods, 'default', 'stays');
    await client.update(Kinds.pods, { ...stays, metadata: { ...stays.metadata, labels: { touched: 'yes' } } });
    await n.store.compact(n.store.local.revision());
    release();
    await waitFor('the relist', () => seen.length === 5 || undefined);
    assert.deepEqual(seen.slice(2).sort(), ['add new', 'delete goes', 'update stays']);
    assert.ok(watches >= 2, 'watched again from the new list');
    assert.ok(logger.lines.some((l) => /410/.test(l.msg)), `the end is logged: ${JSON.stringify(logger.lines)}`);
    // The new watch follows the store again.
    await client.delete(Kinds.pods, 'default', 'new', { gracePeriodSeconds: 0 });
    await waitFor('the delete through the new watch', () => seen.length === 6 || undefined);
    assert.deepEqual(seen[5], 'delete new');
  } finally {
    informer.stop();
  }
});

test('a failed list is logged and retried with backoff until it succeeds', async () => {
  await clearPods();
  await client.create(Kinds.pods, pod('x'));
  const real = clientListWatch(client, Kinds.pods);
  let lists = 0;
  const source: ListWatch<KubeObject> = {
    list: () => (++lists <= 3 ? Promise.reject(new Error(`no leader (list ${lists})`)) : real.list()),
    watch: (revision, onChange, onEnd) => real.watch(revision, onChange, onEnd),
  };
  const logger = recordingLogger();
  const informer = new Informer(source, { name: 'pods', key: keyOf, revision: revisionOf, logger, backoff: { baseMs: 10, jitter: 0 } });
  await informer.start();
  try {
    assert.equal(lists, 4);
    assert.deepEqual(informer.list().map((p) => p.metadata.name), ['x']);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    assert.deepEqual(
      warnings.map((w) => [(w.obj['err'] as Error).message, w.obj['failures'], w.obj['retryInMs']]),
      [
        ['no leader (list 1)', 1, 10],
        ['no leader (list 2)', 2, 20],
        ['no leader (list 3)', 3, 40],
      ],
    );
  } finally {
    informer.stop();
  }
});

test('stop ends the watch and the retries; a start that never synced resolves at stop', async () => {
  await clearPods();
  const informer = new ObjectInformer(client, Kinds.pods, { logger: recordingLogger() });
  const seen = record(informer);
  await informer.start();
  informer.stop();
  await client.create(Kinds.pods, pod('after-stop'));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(seen, []);

  const never = new Informer<KubeObject>({ list: () => Promise.reject(new Error('down')), watch: () => Promise.reject(new Error('unused')) }, { name: 'down', key: keyOf, revision: revisionOf, logger: recordingLogger(), backoff: { baseMs: 5 } });
  const starting = never.start();
  await new Promise((r) => setTimeout(r, 50));
  never.stop();
  await starting;
  assert.equal(never.hasSynced(), false);
});

test('over HTTPS: a watch whose server goes away is reported, and the cache relists from the API started again', { timeout: 120_000 }, async () => {
  await clearPods();
  const dataDir = mkdtempSync(join(tmpdir(), 'bramble-http-informer-'));
  const port = await freePort();
  const serve = () => startApi({ dataDir, store: n.store, host: '127.0.0.1', port, nodeName: 'cache', gitVersion: 'v0.0.0-test', feeds: apiFeeds(pino({ level: 'silent' })) });
  let api = await serve();
  const http = new HttpClient({ server: api.url, token: readFileSync(join(dataDir, 'auth', 'admin-token'), 'utf8').trim(), insecureSkipTlsVerify: true });
  const logger = recordingLogger();
  const informer = new ObjectInformer(http, Kinds.pods, { logger, backoff: { baseMs: 50, maxMs: 500 } });
  const seen = record(informer);
  await informer.start();
  try {
    await client.create(Kinds.pods, pod('over-http'));
    await waitFor('the add over HTTPS', () => (seen.includes('add over-http') ? true : undefined));
    await api.stop();
    await waitFor('the end of the stream is reported', () => (logger.lines.some((l) => /server closed the stream|ECONNRESET|socket hang up/.test(`${l.msg} ${String(l.obj['reason'] ?? '')}`)) ? true : undefined));
    await client.create(Kinds.pods, pod('while-down'));
    api = await serve();
    await waitFor('the pod created while the API was down', () => (seen.includes('add while-down') ? true : undefined), 60_000);
  } finally {
    informer.stop();
    await api.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
