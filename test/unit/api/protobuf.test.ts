// The protobuf body decoder against bodies the real kubectl 1.32 sent, each checked against the
// JSON the same kubectl builds for the same command (`--dry-run=client -o json`), plus bad input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { decodeProtobufObject, ProtobufError } from '../../../src/api/protobuf.ts';
import { KUBECTL_PROTOBUF_BODIES } from '../../lib/kubectl-protobuf-bodies.ts';

const KUBECTL = '/usr/bin/kubectl';

/** kubectl's own JSON for a generator command, without what the server ignores on create. */
function kubectlJson(command: string): Record<string, unknown> {
  const words = command.split(' ');
  const dash = words.includes('--') ? words.indexOf('--') : words.length;
  const args = [...words.slice(0, dash), '--dry-run=client', '-o', 'json', '--kubeconfig', '/dev/null', ...words.slice(dash)];
  const out = execFileSync(KUBECTL, args, { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent' } });
  return normalise(JSON.parse(out) as Record<string, unknown>);
}

function normalise(value: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'creationTimestamp' && v === null ? undefined : v))) as Record<string, unknown>;
  delete copy['status'];
  return copy;
}

/** kubectl 1.32's `--dry-run=client -o json` for these two, taken once against a bramble node (they need discovery). */
const RBAC_JSON = {
  role: { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'r1' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] },
  clusterrole: { kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'cr1' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }] },
};

function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ''): Buffer {
  const typeMeta = protobuf.Writer.create().uint32((1 << 3) | 2).string(apiVersion).uint32((2 << 3) | 2).string(kind).finish();
  const w = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(typeMeta).uint32((2 << 3) | 2).bytes(raw);
  if (contentEncoding) w.uint32((3 << 3) | 2).string(contentEncoding);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), w.finish()]);
}

function configMapRaw(extra?: (w: protobuf.Writer) => void): Uint8Array {
  const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string('cm').finish();
  const w = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta);
  extra?.(w);
  return w.finish();
}

function rejects(body: Buffer, code: 400 | 415, message: RegExp): void {
  assert.throws(() => decodeProtobufObject(body), (error: unknown) => {
    assert.ok(error instanceof ProtobufError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('protobuf bodies from kubectl 1.32 decode to the JSON kubectl itself builds', () => {
  for (const [name, { command, body }] of Object.entries(KUBECTL_PROTOBUF_BODIES)) {
    if (name === 'resourcequota') continue;
    test(`kubectl ${command}`, () => {
      const decoded = decodeProtobufObject(Buffer.from(body, 'base64'));
      // kubectl create role/clusterrole need a server's discovery even with --dry-run=client.
      const expected = name in RBAC_JSON ? RBAC_JSON[name as keyof typeof RBAC_JSON] : kubectlJson(command);
      assert.deepEqual(normalise(decoded.object), expected);
    });
  }

  test('secret data arrives as raw bytes and becomes base64, as in JSON', () => {
    const decoded = decodeProtobufObject(Buffer.from(KUBECTL_PROTOBUF_BODIES.secret.body, 'base64'));
    assert.deepEqual(decoded.object['data'], { password: Buffer.from('hunter2secret').toString('base64') });
  });

  test('a zero in a pointer field is kept (replicas: 0), a zero in a plain field is omitted', () => {
    const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string('d').uint32(7 << 3).int64(0).finish();
    const spec = protobuf.Writer.create().uint32(1 << 3).int32(0).uint32(5 << 3).int32(0).finish();
    const raw = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta).uint32((2 << 3) | 2).bytes(spec).finish();
    const decoded = decodeProtobufObject(envelope('apps/v1', 'Deployment', raw));
    assert.deepEqual(decoded.object, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 0 } });
  });

  test('times and int-or-strings', () => {
    const time = protobuf.Writer.create().uint32(1 << 3).int64(1_700_000_000).finish();
    const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string('s').uint32((9 << 3) | 2).bytes(time).finish();
    const target = protobuf.Writer.create().uint32(1 << 3).int64(1).uint32((3 << 3) | 2).string('http').finish();
    const port = protobuf.Writer.create().uint32(3 << 3).int32(80).uint32((4 << 3) | 2).bytes(target).finish();
    const spec = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(port).finish();
    const raw = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta).uint32((2 << 3) | 2).bytes(spec).finish();
    const decoded = decodeProtobufObject(envelope('v1', 'Service', raw));
    assert.deepEqual(decoded.object['metadata'], { name: 's', deletionTimestamp: '2023-11-14T22:13:20Z' });
    assert.deepEqual(decoded.object['spec'], { ports: [{ port: 80, targetPort: 'http' }] });
  });
});

describe('protobuf bodies we cannot or must not decode', () => {
  test('a kind without a protobuf schema here (kubectl create quota): 415 that says to use -f', () => {
    rejects(Buffer.from(KUBECTL_PROTOBUF_BODIES.resourcequota.body, 'base64'), 415, /only for Namespace, ConfigMap, .*send the ResourceQuota as YAML or JSON .*kubectl create -f/);
  });
  test('a field number we do not know: 415, never silently dropped', () => {
    rejects(envelope('v1', 'ConfigMap', configMapRaw((w) => w.uint32((9 << 3) | 2).string('x'))), 415, /field number 9 of ConfigMap is not understood/);
  });
  test('a content encoding (gzip) in the envelope: 415', () => {
    rejects(envelope('v1', 'ConfigMap', configMapRaw(), 'gzip'), 415, /content encoding "gzip"/);
  });
  test('no magic bytes: 400', () => {
    rejects(Buffer.from('{"kind":"ConfigMap"}'), 400, /magic bytes/);
    rejects(Buffer.alloc(0), 400, /magic bytes/);
  });
  test('truncated bodies: 400, for every cut inside the object', () => {
    // The body is magic(4) + typeMeta(2 + 21) + raw's tag and length (3) + raw(208) + two empty
    // strings (4). Protobuf has no end marker: a cut between fields is a shorter valid message,
    // which validation then judges; a cut inside raw must be refused.
    const full = Buffer.from(KUBECTL_PROTOBUF_BODIES.deployment.body, 'base64');
    assert.equal(full.length, 4 + 23 + 3 + 208 + 4);
    for (let cut = 28; cut < full.length - 4; cut++) {
      const prefix = full.subarray(0, cut);
      assert.throws(() => decodeProtobufObject(prefix), (error: unknown) => error instanceof ProtobufError && error.code === 400, `cut at ${cut}`);
    }
  });
  test('a wrong wire type for a known field: 400', () => {
    const raw = protobuf.Writer.create().uint32(1 << 3).int32(5).finish();
    rejects(envelope('v1', 'ConfigMap', raw), 400, /ConfigMap.metadata: wire type 0/);
  });
  test('an envelope without a kind: 400', () => {
    rejects(envelope('', '', configMapRaw()), 400, /names no apiVersion and kind/);
  });
  test('a length that claims more bytes than the body has: 400', () => {
    const raw = Buffer.from([(1 << 3) | 2, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    rejects(envelope('rbac.authorization.k8s.io/v1', 'ClusterRole', raw), 400, /malformed/);
  });
  test('random bytes after the magic never throw anything but a ProtobufError', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.alloc(1 + (next() % 64));
      for (let j = 0; j < junk.length; j++) junk[j] = next() & 0xff;
      try {
        decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'latin1'), junk]));
      } catch (error) {
        assert.ok(error instanceof ProtobufError, `case ${i}: ${String(error)}`);
      }
    }
  });
  test('3 MB of repeated fields is refused past 20 000 values, not decoded into 1.5 million items', () => {
    // A Namespace whose spec holds 1 500 000 empty finalizers (two bytes each: tag 0x0a, length 0).
    const spec = Buffer.alloc(3_000_000);
    for (let i = 0; i < spec.length; i += 2) spec[i] = 0x0a;
    const raw = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(spec).finish();
    assert.throws(() => decodeProtobufObject(envelope('v1', 'Namespace', raw)), { name: 'ProtobufError', code: 400, message: 'the protobuf body has more than 20000 values' });
    // A ConfigMap of 440 000 data entries with distinct three-letter keys.
    const w = protobuf.Writer.create();
    for (let i = 0; i < 440_000; i++) w.uint32((2 << 3) | 2).bytes(Buffer.from([0x0a, 0x03, 0x61 + (i % 26), 0x61 + (Math.floor(i / 26) % 26), 0x61 + (Math.floor(i / 676) % 26)]));
    assert.throws(() => decodeProtobufObject(envelope('v1', 'ConfigMap', w.finish())), { name: 'ProtobufError', code: 400, message: 'the protobuf body has more than 20000 values' });
  });
  test('19 990 finalizers are within the limit, and the next body starts with a fresh budget', () => {
    const spec = Buffer.alloc(19_990 * 2);
    for (let i = 0; i < spec.length; i += 2) spec[i] = 0x0a;
    const raw = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(spec).finish();
    for (let round = 0; round < 2; round++) {
      const { object } = decodeProtobufObject(envelope('v1', 'Namespace', raw));
      assert.equal((object['spec'] as { finalizers: string[] }).finalizers.length, 19_990);
    }
  });
});
