// The planner's text on a real kernel: in a scratch network namespace (its own iptables), the
// restore input passes `iptables-restore --test`, applies, and iptables-save then shows every own
// chain exactly as planned; planning again against what is there writes no jump and changes
// nothing; Services that went away take their chains with them; Docker putting its FORWARD jump
// back on top is repaired; and the chains and rules of others planted there survive every apply.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../../src/client/index.ts';
import { iptablesIo, readCurrent } from '../../../src/net/service-iptables.ts';
import { groupsOfEndpoints, type ProxyService, proxyServiceOf } from '../../../src/net/service-model.ts';
import { drift } from '../../../src/net/service-proxy.ts';
import { changedChainsOnly } from '../../../src/net/service-rules-delta.ts';
import { planServiceRules } from '../../../src/net/service-rules.ts';
import { type NetnsHost, NetnsLab } from '../../lib/netns.ts';

let lab: NetnsLab;
let board: NetnsHost;

before(async () => {
  lab = await NetnsLab.create(1);
  board = lab.host(0);
});
after(async () => {
  await lab?.destroy();
});

async function iptables(args: string[]): Promise<void> {
  const result = await lab.exec(board, 'iptables', ['-w', ...args]);
  assert.equal(result.code, 0, `iptables ${args.join(' ')}: ${result.stderr}`);
}

/** Both tables as iptables-save prints them, without the counters and the header lines. */
async function saveAll(): Promise<string[]> {
  const result = await lab.exec(board, 'iptables-save', []);
  return result.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
}
const foreignOnly = (lines: string[]): string[] => lines.filter((l) => !/BRAMBLE-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD|SVC-|SEP-)/.test(l));

const svc = (name: string, spec: object): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec });
const ep = (name: string, subsets: object[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'default', name }, subsets });
const services = [
  svc('web', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
  svc('sticky', { clusterIP: '10.43.0.23', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }),
  svc('dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
  svc('empty', { type: 'NodePort', clusterIP: '10.43.0.22', ports: [{ port: 80, nodePort: 30081 }] }),
  svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
];
const endpoints = [
  ep('web', [{ addresses: [{ ip: '10.42.1.5' }, { ip: '10.42.2.5' }, { ip: '10.42.3.5' }], ports: [{ name: 'http', port: 8080 }] }]),
  ep('sticky', [{ addresses: [{ ip: '10.42.1.6' }, { ip: '10.42.2.6' }], ports: [{ port: 80 }] }]),
  ep('dns', [{ addresses: [{ ip: '10.42.1.9' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }]),
  ep('headless', [{ addresses: [{ ip: '10.42.1.7' }], ports: [{ port: 80 }] }]),
];

async function planFor(objects: KubeObject[], endpointObjects = endpoints) {
  const io = iptablesIo(['ip', 'netns', 'exec', board.netns]);
  const current = await readCurrent(io);
  const plan = planServiceRules({
    services: objects.map(proxyServiceOf).filter((s): s is ProxyService => s !== undefined),
    groups: endpointObjects.flatMap(groupsOfEndpoints),
    nodeAddresses: [board.ip],
    clusterCidr: '10.42.0.0/16',
    current,
  });
  return { io, plan, current };
}

test('restore --test, apply, saved as planned, a second pass changes nothing, stale chains go, foreign rules stay', async () => {
  // What others keep in this table: Docker's chains and jumps, a chain of another tool named like kube-proxy's, a rule of the admin.
  await iptables(['-t', 'nat', '-N', 'DOCKER']);
  await iptables(['-t', 'nat', '-A', 'DOCKER', '-i', 'docker0', '-j', 'RETURN']);
  await iptables(['-t', 'nat', '-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']);
  await iptables(['-t', 'nat', '-A', 'POSTROUTING', '-s', '172.17.0.0/16', '!', '-o', 'docker0', '-j', 'MASQUERADE']);
  await iptables(['-t', 'nat', '-N', 'KUBE-SVC-FOREIGN000000000']);
  await iptables(['-N', 'DOCKER-USER']);
  await iptables(['-A', 'DOCKER-USER', '-j', 'RETURN']);
  await iptables(['-A', 'FORWARD', '-j', 'DOCKER-USER']);
  await iptables(['-N', 'BRAMBLE-DNS']);
  await iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
  const foreign = foreignOnly(await saveAll());
  assert.ok(foreign.length >= 12, foreign.join('\n'));

  const first = await planFor(services);
  await first.io.restore(first.plan.text, { test: true });
  assert.deepEqual(await saveAll().then(foreignOnly), foreign, '--test changes nothing');
  assert.ok(!(await saveAll()).some((l) => l.includes('BRAMBLE-SERVICES')), '--test wrote nothing of ours');

  await first.io.restore(first.plan.text);
  const applied = await planFor(services);
  assert.deepEqual(drift(first.plan, applied.current), [], 'iptables-save shows every own chain as planned');
  assert.deepEqual(applied.plan.jumpsRepaired, []);
  assert.equal(applied.plan.text, first.plan.text.split('\n').filter((l) => !l.startsWith('-I ')).join('\n'));
  const saved = await saveAll();
  assert.deepEqual(foreignOnly(saved), foreign, 'foreign chains and rules survive');
  const filterForward = saved.filter((l) => l.startsWith('-A FORWARD '));
  assert.deepEqual(filterForward.map((l) => l.split(' -j ')[1]), ['BRAMBLE-SERVICES', 'BRAMBLE-FORWARD', 'DOCKER-USER'], 'our FORWARD jumps come before Docker\'s');
  assert.equal(saved.filter((l) => l.startsWith('-A PREROUTING ') && l.includes('BRAMBLE-SERVICES')).length, 1);

  await applied.io.restore(applied.plan.text);
  assert.deepEqual(await saveAll(), saved, 'applied twice: the same rules, nothing doubled');

  // web and sticky are deleted: their chains go, in the same restore.
  const gone = saved.filter((l) => /^:BRAMBLE-(SVC|SEP)-/.test(l)).length;
  const smaller = await planFor(services.filter((s) => s.metadata.name !== 'web' && s.metadata.name !== 'sticky'));
  await smaller.io.restore(smaller.plan.text);
  const after = await saveAll();
  assert.equal(after.filter((l) => /^:BRAMBLE-(SVC|SEP)-/.test(l)).length, gone - 7, 'web (1 + 3) and sticky (1 + 2) chains deleted');
  assert.ok(!after.some((l) => l.includes('default/web') || l.includes('default/sticky')));
  assert.deepEqual(foreignOnly(after), foreign, 'foreign chains and rules survive the deletion');
  assert.deepEqual(drift(smaller.plan, (await planFor([])).current), []);
});

test('Docker putting its FORWARD jump back on top, and a nat jump gone: repaired by the next plan, once', async () => {
  const steady = await planFor(services);
  await steady.io.restore(steady.plan.text);
  // What an engine restart does: its jump inserted first again.
  await iptables(['-D', 'FORWARD', '-j', 'DOCKER-USER']);
  await iptables(['-I', 'FORWARD', '1', '-j', 'DOCKER-USER']);
  await iptables(['-t', 'nat', '-D', 'OUTPUT', '-m', 'comment', '--comment', 'bramble service portals', '-j', 'BRAMBLE-SERVICES']);
  const broken = await planFor(services);
  assert.deepEqual(broken.plan.jumpsRepaired, ['filter FORWARD', 'nat OUTPUT']);
  assert.deepEqual(drift(broken.plan, broken.current), [], 'the own chains themselves are intact');
  await broken.io.restore(broken.plan.text);
  const saved = await saveAll();
  assert.deepEqual(saved.filter((l) => l.startsWith('-A FORWARD ')).map((l) => l.split(' -j ')[1]), ['BRAMBLE-SERVICES', 'BRAMBLE-FORWARD', 'DOCKER-USER']);
  assert.equal(saved.filter((l) => l.startsWith('-A OUTPUT ') && l.includes('BRAMBLE-SERVICES')).length, 2, 'one in nat OUTPUT, one in filter OUTPUT');
  assert.deepEqual((await planFor(services)).plan.jumpsRepaired, []);
});

test('a pass writes only the chains that differ: one endpoint of web moves, the kernel then holds the whole new plan', async () => {
  const steady = await planFor(services);
  await steady.io.restore(changedChainsOnly(steady.plan, steady.current));
  assert.deepEqual(drift(steady.plan, (await planFor(services)).current), []);
  const moved = endpoints.map((e) => (e.metadata.name === 'web' ? ep('web', [{ addresses: [{ ip: '10.42.1.5' }, { ip: '10.42.2.5' }, { ip: '10.42.4.5' }], ports: [{ name: 'http', port: 8080 }] }]) : e));
  const next = await planFor(services, moved);
  const delta = changedChainsOnly(next.plan, next.current);
  assert.ok(delta.split('\n').length < next.plan.text.split('\n').length / 2, delta);
  assert.ok(!delta.includes('default/sticky') && !delta.includes('default/dns'), 'the other Services are not written');
  await next.io.restore(delta);
  const after = await planFor(services, moved);
  assert.deepEqual(drift(next.plan, after.current), [], 'what the kernel holds is the whole new plan');
  assert.ok((await saveAll()).some((l) => l.includes('--to-destination 10.42.4.5:8080')));
  assert.equal(changedChainsOnly(after.plan, after.current), '', 'and nothing is left to write');
});
