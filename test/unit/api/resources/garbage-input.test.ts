// Whatever JSON a client sends, the resource layer answers with field errors, never an exception:
// seeded random mutations of valid objects (wrong types, nulls, huge numbers, odd keys) go through
// every entry point the server calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  applyDefaults, applyStrategicMergePatch, findByKind, PatchError, prepareForCreate, prepareForUpdate, RESOURCES, toTable, unknownFields,
  validateCreate, validateUpdate, type KubeObject,
} from '../../../../src/api/resources/index.ts';
import { CONFIGMAP, NGINX_DEPLOYMENT, PI_JOB, SERVICE } from '../../../lib/docs-manifests.ts';

/** mulberry32: a tiny seeded PRNG so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [null, '', 'x', -1, 0, 1.5, 1e308, true, [], [null], {}, { a: null }, [{}], '__proto__', { __proto__: 1 }, 'ÿ'.repeat(300)];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function mutate(v: unknown, rnd: () => number, depth = 0): unknown {
  const pick = (): unknown => structuredClone(ODD_VALUES[Math.floor(rnd() * ODD_VALUES.length)]);
  if (depth > 12) return v;
  if (Array.isArray(v)) {
    if (rnd() < 0.1) return pick();
    return v.map((x) => (rnd() < 0.3 ? mutate(x, rnd, depth + 1) : x));
  }
  if (v !== null && typeof v === 'object') {
    if (rnd() < 0.05) return pick();
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = rnd() < 0.35 ? mutate(x, rnd, depth + 1) : x;
    if (rnd() < 0.1) out[rnd() < 0.5 ? 'unexpected' : '$patch'] = pick();
    return out;
  }
  return rnd() < 0.5 ? pick() : v;
}

const RICH_POD: KubeObject = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { a: 'b' }, ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }] },
  spec: { volumes: [{ name: 'v', configMap: { name: 'c', items: [{ key: 'k', path: 'p' }] } }], containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }],
    env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], resources: { limits: { cpu: '1' } }, livenessProbe: { httpGet: { port: 80 } },
    volumeMounts: [{ name: 'v', mountPath: '/v' }] }], tolerations: [{ key: 'k', operator: 'Exists' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 1, state: { running: {} } }] },
};

const RBAC: KubeObject[] = [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'alice' }] },
  { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e', namespace: 'a' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e', namespace: 'a' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n' }], ports: [{ name: 'http', port: 80 }] },
  { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'a' }, involvedObject: { kind: 'Pod', name: 'p' }, type: 'Normal' },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'a' }, data: { a: 'eA==' }, type: 'kubernetes.io/tls' },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'a' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } },
];

const SEEDS = [...[NGINX_DEPLOYMENT, SERVICE, CONFIGMAP, PI_JOB].map((t) => parse(t) as KubeObject), RICH_POD, ...RBAC];

test('garbage input: every entry point returns errors instead of throwing (seeded, 3000 mutations)', () => {
  const now = new Date('2026-11-23T08:00:00Z');
  let withErrors = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rnd = prng(seed);
    const base = SEEDS[seed % SEEDS.length] as KubeObject;
    const info = findByKind(base.apiVersion, base.kind) ?? RESOURCES[0];
    assert.ok(info);
    const obj = mutate(base, rnd) as KubeObject;
    const ctx = `seed ${seed} (${base.kind})`;
    try {
      // A body that is not an object at all is the HTTP layer's 400; everything inside one is ours.
      const asObject = (v: unknown): KubeObject => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : { apiVersion: base.apiVersion, kind: base.kind, metadata: {} }) as KubeObject;
      const input = asObject(obj);
      const defaulted = applyDefaults(info, input);
      const created = prepareForCreate(info, defaulted, { uid: `uid-${seed}`, now });
      const errs = validateCreate(info, created);
      if (errs.length > 0) withErrors++;
      for (const e of errs) assert.ok(e.type && typeof e.message === 'string', ctx);
      unknownFields(info, created);
      const updated = prepareForUpdate(info, applyDefaults(info, asObject(mutate(base, rnd))), created);
      validateUpdate(info, updated, created);
      prepareForUpdate(info, input, created, 'status');
      toTable(info, [created, updated], { now });
      try {
        applyStrategicMergePatch(info, base, mutate(base, rnd) as Json);
      } catch (e) {
        if (!(e instanceof PatchError)) throw e;
      }
    } catch (e) {
      assert.fail(`${ctx}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n${JSON.stringify(obj).slice(0, 2000)}`);
    }
  }
  assert.ok(withErrors > 500, `the mutations do produce invalid objects (${withErrors})`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
