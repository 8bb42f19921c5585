// What a proxy pass writes: only the own chains that differ from what iptables holds. Golden on
// the planner's real output for two Services: nothing when all is in place, one Service's chain
// and its new endpoint chain (and the old endpoint chain's deletion) when one endpoint changes,
// the jump repairs always, and everything on a board that has none of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../src/client/index.ts';
import { groupsOfEndpoints, type ProxyService, proxyServiceOf } from '../../../src/net/service-model.ts';
import { changedChainsOnly } from '../../../src/net/service-rules-delta.ts';
import { type CurrentRules, emptyTable, planServiceRules, stateAfter } from '../../../src/net/service-rules.ts';

const svc = (name: string, clusterIP: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec: { clusterIP, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } });
const ep = (name: string, ips: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'default', name }, subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ port: 8080, protocol: 'TCP' }] }] });
const nothing = (): CurrentRules => ({ nat: emptyTable(), filter: emptyTable() });

function plan(endpoints: KubeObject[], current: CurrentRules) {
  return planServiceRules({
    services: [svc('web', '10.43.0.20'), svc('api', '10.43.0.21')].map(proxyServiceOf).filter((s): s is ProxyService => s !== undefined),
    groups: endpoints.flatMap(groupsOfEndpoints),
    nodeAddresses: ['192.168.1.10'],
    clusterCidr: '10.42.0.0/16',
    current,
  });
}
const chainsOf = (text: string): string[] => text.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!);

/** Each chain's rules in order (what iptables ends up holding), and the other lines of the text. */
function byChain(text: string): { rules: Record<string, string[]>; other: string[] } {
  const rules: Record<string, string[]> = {};
  const other: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('-A ')) (rules[line.split(' ')[1]!] ??= []).push(line);
    else other.push(line);
  }
  return { rules, other };
}

test('a board with none of the rules gets the whole plan, jumps included (grouped by chain)', () => {
  const first = plan([ep('web', ['10.42.1.5']), ep('api', ['10.42.2.5'])], nothing());
  assert.deepEqual(byChain(changedChainsOnly(first, nothing())), byChain(first.text));
});

test('nothing differs: nothing is written', () => {
  const first = plan([ep('web', ['10.42.1.5']), ep('api', ['10.42.2.5'])], nothing());
  const held = stateAfter(first);
  assert.equal(changedChainsOnly(plan([ep('web', ['10.42.1.5']), ep('api', ['10.42.2.5'])], held), held), '');
});

test('one endpoint of one Service changes: its Service chain, the new endpoint chain and the old one\'s deletion, nothing of the other Service', () => {
  const first = plan([ep('web', ['10.42.1.5']), ep('api', ['10.42.2.5'])], nothing());
  const held = stateAfter(first);
  const next = plan([ep('web', ['10.42.1.6']), ep('api', ['10.42.2.5'])], held);
  const text = changedChainsOnly(next, held);
  const lines = text.split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('*')), ['*nat'], 'the filter table is unchanged: not written');
  const declared = chainsOf(text);
  assert.equal(declared.length, 3, text);
  assert.ok(declared.every((c) => /^BRAMBLE-(SVC|SEP)-/.test(c)), text);
  const deleted = lines.filter((l) => l.startsWith('-X '));
  assert.equal(deleted.length, 1, text);
  assert.ok(lines.some((l) => l.includes('--to-destination 10.42.1.6:8080')));
  assert.ok(!text.includes('10.42.2.5') && !text.includes('10.43.0.21'), 'nothing of api');
  assert.ok(!text.includes(':BRAMBLE-SERVICES '), 'the Service list did not change');
  assert.equal(lines.at(-2), 'COMMIT');
});

test('a missing jump is repaired even when every own chain is in place', () => {
  const first = plan([ep('web', ['10.42.1.5'])], nothing());
  const held = stateAfter(first);
  held.nat.rules.set('PREROUTING', []);
  const next = plan([ep('web', ['10.42.1.5'])], held);
  assert.deepEqual(next.jumpsRepaired, ['nat PREROUTING']);
  assert.deepEqual(changedChainsOnly(next, held).split('\n').filter((l) => l !== ''), ['*nat', '-I PREROUTING 1 -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES', 'COMMIT']);
});
