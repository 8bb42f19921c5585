// Node lifecycle decisions from given states: silent node -> taint + Ready=Unknown + evict;
// tolerationSeconds delays eviction; a node heard again is untainted and Ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/client/index.ts';
import { planNode, toleratedMs, UNREACHABLE_TAINT } from '../../../../src/control/controllers/node-lifecycle.ts';
import { pod } from '../../../lib/objects.ts';

const now = new Date('2026-12-01T12:00:00Z');
const node = (o: { taints?: object[]; ready?: { status: string; reason: string } } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'pi2' },
  spec: { taints: o.taints ?? [] },
  status: { conditions: [{ type: 'Ready', status: o.ready?.status ?? 'True', reason: o.ready?.reason ?? 'KubeletReady', lastTransitionTime: '2026-12-01T10:00:00Z' }] },
});
const readyOf = (n: KubeObject | undefined) => ((n?.['status'] as { conditions: { type: string; status: string; reason: string }[] }).conditions.find((c) => c.type === 'Ready'));

test('a silent node is tainted unreachable, Ready=Unknown, and its pods evicted at once', () => {
  const plan = planNode(node({ taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), false, 4500, [pod('a', { node: 'pi2' }), pod('b', { node: 'pi2' })], now);
  const taints = (plan.spec?.['spec'] as { taints: { key: string; effect: string }[] }).taints;
  assert.deepEqual(taints.map((t) => `${t.key}:${t.effect}`), ['gpu:NoSchedule', `${UNREACHABLE_TAINT}:NoSchedule`, `${UNREACHABLE_TAINT}:NoExecute`]);
  const ready = readyOf(plan.status);
  assert.deepEqual([ready?.status, ready?.reason], ['Unknown', 'NodeStatusUnknown']);
  assert.deepEqual(plan.evict.map((p) => p.metadata.name), ['a', 'b']);
});

test('tolerationSeconds delays eviction; a toleration without seconds keeps the pod', () => {
  const tainted = node({ taints: [{ key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: '2026-12-01T11:59:58Z' }, { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: '2026-12-01T11:59:58Z' }], ready: { status: 'Unknown', reason: 'NodeStatusUnknown' } });
  const waits = pod('waits', { node: 'pi2', spec: { tolerations: [{ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] } });
  const stays = pod('stays', { node: 'pi2', spec: { tolerations: [{ operator: 'Exists' }] } });
  const plan = planNode(tainted, false, 6000, [waits, stays, pod('goes', { node: 'pi2' })], now);
  assert.equal(plan.spec, undefined, 'taints already there: no write');
  assert.equal(plan.status, undefined, 'Ready already Unknown: no write');
  assert.deepEqual(plan.evict.map((p) => p.metadata.name), ['goes']);
  assert.equal(plan.recheckMs, 3000);
  assert.equal(toleratedMs(stays), Infinity);
  assert.deepEqual(planNode(tainted, false, 9000, [waits], new Date('2026-12-01T12:00:04Z')).evict.map((p) => p.metadata.name), ['waits']);
});

test('a node heard again loses the unreachable taints (Ready is its agent\'s to write); a healthy node is left alone', () => {
  const tainted = node({ taints: [{ key: 'gpu', effect: 'NoSchedule' }, { key: UNREACHABLE_TAINT, effect: 'NoExecute' }], ready: { status: 'Unknown', reason: 'NodeStatusUnknown' } });
  const plan = planNode(tainted, true, 100, [pod('a', { node: 'pi2' })], now);
  assert.deepEqual((plan.spec?.['spec'] as { taints: { key: string }[] }).taints.map((t) => t.key), ['gpu']);
  assert.equal(plan.status, undefined);
  assert.deepEqual(plan.evict, []);
  const healthy = planNode(node(), true, 100, [pod('a', { node: 'pi2' })], now);
  assert.deepEqual(healthy, { evict: [] });
});

test('a node that was never Ready (--runtime none) but is heard is left alone: no taint, no status write, no eviction', () => {
  // Liveness is Raft contact, not the Ready condition: the scheduler already keeps pods off a
  // node whose agent reports Ready=False; a pod bound to it by hand is not evicted while it lives.
  const neverReady = node({ ready: { status: 'False', reason: 'NoContainerRuntime' } });
  assert.deepEqual(planNode(neverReady, true, 50, [pod('by-hand', { node: 'pi2' })], now), { evict: [] });
});

test('a never-Ready node that goes silent is judged like any dead member (Kubernetes does so too after its startup grace)', () => {
  const neverReady = node({ ready: { status: 'False', reason: 'NoContainerRuntime' } });
  const plan = planNode(neverReady, false, 4500, [pod('by-hand', { node: 'pi2' })], now);
  assert.deepEqual(readyOf(plan.status)?.status, 'Unknown');
  assert.deepEqual((plan.spec?.['spec'] as { taints: { key: string }[] }).taints.map((t) => t.key), [UNREACHABLE_TAINT, UNREACHABLE_TAINT]);
  assert.deepEqual(plan.evict.map((p) => p.metadata.name), ['by-hand']);
});
