// Issue 16's stall, proved gone on a real 3-process cluster: a batch of hostile request bodies
// (2.8 MB of nested brackets in YAML and JSON, flat bodies of a million values, a YAML alias
// bomb, a protobuf body of 1.5 million list items, JSON patches that copy themselves to 4 GB,
// 10 001 patch operations, a long selector, a CBOR body of 4 million items on the store port) is
// sent to the Raft LEADER while a probe keeps asking the same process for /version. Each body
// gets its exact Kubernetes (or store) refusal; the probe never fails; and the leader and its
// term never change: the leader never stopped heartbeating long enough to lose its lease (the
// 2.8 MB YAML used to stall it 10-15 s and cost it the leadership every time). The worst probe
// latency and the worst gap between two probe answers during each body are printed.
//
// Raft runs with the production timing (100 ms ticks, 10 election ticks: a follower stands for
// election after 1-2 s without a heartbeat), so a stall of the leader shows as a new term.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { parse as parseYaml } from 'yaml';
import { wire } from '../../../src/store/wire.ts';
import { clientTls, groupBundle, statusOf, type BrambleNode } from '../../lib/bramble-cluster.ts';
import { freePort } from '../../lib/ports.ts';
import { ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

interface Credentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

interface Answer {
  status: number;
  body: Buffer;
}

let group: ProcessGroup;
let nodes: BrambleNode[];
let apiPorts: Map<string, number>;
let failed = false;

function credentialsOf(dataDir: string): Credentials {
  const kubeconfig = parseYaml(readFileSync(join(dataDir, 'kubeconfig'), 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64');
  return { ca: b64(kubeconfig.clusters[0]?.cluster['certificate-authority-data']), cert: b64(kubeconfig.users[0]?.user['client-certificate-data']), key: b64(kubeconfig.users[0]?.user['client-key-data']) };
}

/** One HTTPS request with the whole body written at once; a socket error is an answer of status 0. */
function call(port: number, tls: Credentials | ReturnType<typeof clientTls>, method: string, path: string, body: Buffer | undefined, contentType: string, agent: Agent | false = false, timeoutMs = 60_000): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { 'content-type': contentType, ...(body ? { 'content-length': body.length } : {}) };
    const outgoing = request({ ...tls, host: '127.0.0.1', port, method, path, agent, headers, checkServerIdentity: () => undefined, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
    outgoing.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
    outgoing.end(body);
  });
}

/**
 * Asks for /version one request at a time, over one kept-alive connection (so what it measures
 * is the server's event loop, not TLS handshakes), and remembers when each answer came.
 */
class Probe {
  readonly answers: { start: number; end: number; status: number }[] = [];
  private running = true;
  private readonly done: Promise<void>;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(port: number, tls: Credentials) {
    this.done = (async () => {
      while (this.running) {
        const start = performance.now();
        const answer = await call(port, tls, 'GET', '/version', undefined, 'application/json', this.agent, 30_000);
        this.answers.push({ start, end: performance.now(), status: answer.status });
        // A short pause, so the probe is a steady trickle rather than a load of its own.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
  }

  /** During [from, to]: the slowest probe answer and the longest time without one. */
  worst(from: number, to: number): { latencyMs: number; gapMs: number; answers: number; failures: number } {
    const inside = this.answers.filter((a) => a.end >= from && a.start <= to);
    let previous = from;
    let gapMs = 0;
    for (const a of inside) {
      gapMs = Math.max(gapMs, a.end - previous);
      previous = a.end;
    }
    gapMs = Math.max(gapMs, to - previous);
    return { latencyMs: Math.max(0, ...inside.map((a) => a.end - a.start)), gapMs, answers: inside.length, failures: inside.filter((a) => a.status !== 200).length };
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.agent.destroy();
  }
}

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const LEVELS = 1_400_000;

function aliasBomb(): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  ${lines.join('\n  ')}\n`;
}

/** A Namespace in kubectl's protobuf envelope whose spec holds 1 500 000 empty finalizers. */
function protobufFinalizers(): Buffer {
  const spec = Buffer.alloc(3_000_000);
  for (let i = 0; i < spec.length; i += 2) spec[i] = 0x0a;
  const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string('many-finalizers').finish();
  const raw = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta).uint32((2 << 3) | 2).bytes(spec).finish();
  const typeMeta = protobuf.Writer.create().uint32((1 << 3) | 2).string('v1').uint32((2 << 3) | 2).string('Namespace').finish();
  const envelope = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(typeMeta).uint32((2 << 3) | 2).bytes(raw).finish();
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), envelope]);
}

interface HostileCase {
  name: string;
  method: string;
  path: string;
  contentType: string;
  body?: () => Buffer;
  /** The store's client port instead of the API. */
  storePort?: boolean;
  expected: { code: number; reason?: string; message: string | RegExp };
}

const CMS = '/api/v1/namespaces/default/configmaps';
const TARGET = `${CMS}/hostile-target`;

const cases: HostileCase[] = [
  // Not hostile: the probe's figures for an ordinary request, to read the others against.
  { name: 'baseline: an ordinary ConfigMap in JSON', method: 'POST', path: CMS, contentType: 'application/json', body: () => Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'baseline' }, data: { a: 'b' } })), expected: { code: 201, message: '' } },
  // Not hostile either: larger valid bodies, decoded, validated, replicated and stored. Kept at
  // 2 000 keys: 45 000 (0.9 MB) stalled the leader 0.25-0.37 s, and 1.2 s beside two CPU hogs
  // (10 000: 0.5 s), in validation, cloning and storing rather than parsing: on a busy machine
  // that could cost the lease this test asserts for reasons outside it.
  { name: 'valid: a ConfigMap of 2 000 keys in JSON (40 kB)', method: 'POST', path: CMS, contentType: 'application/json', body: () => Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'large-json' }, data: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`key-${i}`, 'value']))})), expected: { code: 201, message: '' } },
  { name: 'valid: a ConfigMap of 2 000 keys in YAML (40 kB)', method: 'POST', path: CMS, contentType: 'application/yaml', body: () => Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: large-yaml}\ndata:\n${Array.from({ length: 2_000 }, (_, i) => `  key-${i}: value\n`).join('')}`), expected: { code: 201, message: '' } },
  { name: 'YAML extra: [[[[…]]]], 1.4 million levels (2.8 MB)', method: 'POST', path: CMS, contentType: 'application/yaml', body: () => Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nextra: ${nested(LEVELS)}\n`), expected: { code: 400, reason: 'BadRequest', message: 'the request body nests deeper than 100 levels' } },
  { name: 'JSON of the same depth', method: 'POST', path: CMS, contentType: 'application/json', body: () => Buffer.from(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"extra":${nested(LEVELS)}}`), expected: { code: 400, reason: 'BadRequest', message: 'the request body nests deeper than 100 levels' } },
  { name: 'YAML flow sequence of 1.4 million numbers', method: 'POST', path: CMS, contentType: 'application/yaml', body: () => Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flat}\nextra: [${'1,'.repeat(LEVELS)}]\n`), expected: { code: 400, reason: 'BadRequest', message: 'the request body has more than 100000 values' } },
  { name: 'JSON array of 1.4 million numbers', method: 'POST', path: CMS, contentType: 'application/json', body: () => Buffer.from(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"flat"},"extra":[${'1,'.repeat(LEVELS)}1]}`), expected: { code: 400, reason: 'BadRequest', message: 'the request body has more than 100000 values' } },
  { name: 'YAML of 1.4 million comment lines', method: 'POST', path: CMS, contentType: 'application/yaml', body: () => Buffer.from('#\n'.repeat(LEVELS)), expected: { code: 400, reason: 'BadRequest', message: 'the request body has more than 1000000 YAML tokens' } },
  { name: 'YAML alias bomb (9 aliases a level, 12 levels)', method: 'POST', path: CMS, contentType: 'application/yaml', body: () => Buffer.from(aliasBomb()), expected: { code: 400, reason: 'BadRequest', message: "the request body's YAML aliases expand past the limit of 100" } },
  { name: 'protobuf Namespace with 1.5 million finalizers', method: 'POST', path: '/api/v1/namespaces', contentType: 'application/vnd.kubernetes.protobuf', body: protobufFinalizers, expected: { code: 400, reason: 'BadRequest', message: 'the protobuf body has more than 20000 values' } },
  { name: 'JSON patch of 22 self-doubling copies', method: 'PATCH', path: TARGET, contentType: 'application/json-patch+json', body: () => Buffer.from(JSON.stringify(Array.from({ length: 22 }, (_, i) => ({ op: 'copy', path: `/data/c${i}`, from: '/data' })))), expected: { code: 422, reason: 'Invalid', message: /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/ } },
  { name: 'JSON patch of 10 001 operations', method: 'PATCH', path: TARGET, contentType: 'application/json-patch+json', body: () => Buffer.from(JSON.stringify(Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'ConfigMap' })))), expected: { code: 413, reason: 'RequestEntityTooLarge', message: 'The allowed maximum operations in a JSON patch is 10000, got 10001' } },
  { name: 'strategic merge patch 500 000 levels deep (3 MB)', method: 'PATCH', path: TARGET, contentType: 'application/strategic-merge-patch+json', body: () => Buffer.from(`{"data":${'{"a":'.repeat(500_000)}1${'}'.repeat(500_000)}}`), expected: { code: 400, reason: 'BadRequest', message: 'the request body nests deeper than 100 levels' } },
  { name: 'label selector of 12 000 characters', method: 'GET', path: `${CMS}?labelSelector=${'a'.repeat(12_000)}!`, contentType: 'application/json', expected: { code: 400, reason: 'BadRequest', message: /^unable to parse requirement/ } },
  { name: 'store port: CBOR array of 4 million integers', method: 'POST', path: '/v1/kv/put', contentType: 'application/cbor', storePort: true, body: () => Buffer.concat([Buffer.from([0x9a, 0x00, 0x3f, 0xff, 0xf0]), Buffer.alloc(0x3ffff0, 0x01)]), expected: { code: 400, message: 'the request body has more than 10000 CBOR items' } },
];

before(async () => {
  group = new ProcessGroup();
  const names = ['node1', 'node2', 'node3'];
  const peers = await Promise.all(names.map(async () => `127.0.0.1:${await freePort()}`));
  const initialCluster = names.map((name, i) => `${name}=${peers[i]!}`).join(',');
  const bundleDir = await groupBundle(group);
  nodes = [];
  apiPorts = new Map();
  for (const [i, name] of names.entries()) {
    const process = await group.spawn(name, {
      portNames: ['client', 'api'],
      args: ({ ports, dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', peers[i]!, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--initial-cluster', initialCluster, '--bundle', bundleDir, '--runtime', 'none', '--log-level', 'info'],
    });
    nodes.push({ name, process, peerAddress: peers[i]!, clientAddress: `127.0.0.1:${process.ports['client']}`, bundleDir, tls: clientTls(bundleDir) });
    apiPorts.set(name, process.ports['api']!);
  }
  await Promise.all(nodes.map((node) => node.process.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS)));
});

after(async () => {
  if (failed) console.error(`--- logs of the cluster ---\n${group.logs()}\n--- end of logs ---`);
  await group.cleanup();
});

/** The leader and term every running node agrees on. */
async function agreedLeader(): Promise<{ leader: BrambleNode; term: number }> {
  return waitFor('a leader all three nodes agree on', async () => {
    const statuses = await Promise.all(nodes.map((node) => statusOf(node)));
    const first = statuses[0];
    if (!first?.leader || statuses.some((s) => s?.leader !== first.leader || s.term !== first.term)) return null;
    const leader = nodes.find((node) => node.name === first.leader);
    return leader ? { leader, term: first.term } : null;
  }, 60_000);
}

function statusBody(answer: Answer, storePort: boolean): { code?: number; reason?: string; message?: string } {
  if (storePort) {
    const decoded = wire.decode(answer.body) as { error?: { code: string; message: string } };
    return { message: decoded.error?.message ?? '', reason: decoded.error?.code ?? '' };
  }
  return JSON.parse(answer.body.toString('utf8')) as { code?: number; reason?: string; message?: string };
}

describe('hostile bodies sent to the leader of a real 3-node cluster', { timeout: 600_000 }, () => {
  test('each is refused with its exact Status, the probe keeps answering, and the leader keeps its term', async (t) => {
    try {
      const { leader, term } = await agreedLeader();
      const api = apiPorts.get(leader.name)!;
      const admin = credentialsOf(leader.process.dataDir);
      const target = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hostile-target' }, data: { a: 'x'.repeat(1000) } };
      const created = await call(api, admin, 'POST', CMS, Buffer.from(JSON.stringify(target)), 'application/json');
      assert.equal(created.status, 201, created.body.toString('utf8'));
      t.diagnostic(`leader ${leader.name}, term ${term}`);

      const probe = new Probe(api, admin);
      try {
        for (const hostile of cases) {
          const body = hostile.body?.();
          const from = performance.now();
          const answer = hostile.storePort
            ? await call(Number(leader.clientAddress.split(':')[1]), leader.tls, hostile.method, hostile.path, body, hostile.contentType)
            : await call(api, admin, hostile.method, hostile.path, body, hostile.contentType);
          const to = performance.now();
          const worst = probe.worst(from, to);
          t.diagnostic(`${hostile.name}: ${answer.status} after ${(to - from).toFixed(0)} ms; probe: ${worst.answers} answers, worst latency ${worst.latencyMs.toFixed(0)} ms, worst gap ${worst.gapMs.toFixed(0)} ms, ${worst.failures} failed`);
          assert.equal(answer.status, hostile.expected.code, `${hostile.name}: ${answer.body.toString('utf8').slice(0, 300)}`);
          if (hostile.expected.code === 201) continue;
          const status = statusBody(answer, hostile.storePort === true);
          if (!hostile.storePort) assert.equal(status.code, hostile.expected.code, hostile.name);
          if (hostile.expected.reason) assert.equal(status.reason, hostile.expected.reason, hostile.name);
          if (hostile.storePort) assert.equal(status.reason, 'invalid-request', hostile.name);
          if (typeof hostile.expected.message === 'string') assert.equal(status.message, hostile.expected.message, hostile.name);
          else assert.match(status.message ?? '', hostile.expected.message, hostile.name);
        }
      } finally {
        await probe.stop();
      }

      const failures = probe.answers.filter((a) => a.status !== 200);
      assert.equal(failures.length, 0, `${failures.length} of ${probe.answers.length} probe requests got no answer or not 200`);
      // The key assertion: no election happened, so the leader never went silent for an election timeout.
      const afterwards = await agreedLeader();
      assert.equal(afterwards.leader.name, leader.name, 'the leader did not change');
      assert.equal(afterwards.term, term, 'the term did not change: the leader never lost its lease');
      // And it still serves writes.
      const write = await call(api, admin, 'POST', CMS, Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-hostile' } })), 'application/json');
      assert.equal(write.status, 201, write.body.toString('utf8'));
    } catch (error) {
      failed = true;
      throw error;
    }
  });
});
