import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatResolvConf, needsOwnResolvConf, parseResolvConf, podResolvConf, readHostResolvConf } from '../../../src/agent/pods/dns-config.ts';
import type { Pod } from '../../../src/client/index.ts';

const cluster = { nameserver: '10.43.0.10', domain: 'cluster.local' };
const host = { nameservers: ['192.168.1.1'], searches: ['home.lan'], options: ['timeout:2'] };

function pod(spec: Partial<Pod['spec']> = {}, namespace = 'shop'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace, uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } };
}

test('ClusterFirst (the default): the cluster DNS, the namespace search path then the board\'s, ndots:5', () => {
  assert.equal(formatResolvConf(podResolvConf(pod(), cluster, host)), 'nameserver 10.43.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local home.lan\noptions ndots:5\n');
});

test('ClusterFirst without a cluster DNS on the board falls back to the board\'s resolvers', () => {
  assert.deepEqual(podResolvConf(pod({ dnsPolicy: 'ClusterFirst' }), undefined, host), host);
});

test('Default copies the board; None takes only dnsConfig; hostNetwork with ClusterFirst is Default, WithHostNet is cluster', () => {
  assert.deepEqual(podResolvConf(pod({ dnsPolicy: 'Default' }), cluster, host), host);
  assert.deepEqual(podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['x.test'], options: [{ name: 'ndots', value: '1' }] } }), cluster, host), { nameservers: ['9.9.9.9'], searches: ['x.test'], options: ['ndots:1'] });
  assert.deepEqual(podResolvConf(pod({ hostNetwork: true }), cluster, host), host);
  assert.deepEqual(podResolvConf(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cluster, host).nameservers, ['10.43.0.10']);
});

test('dnsConfig merges: servers and searches appended once, options by name with the pod\'s value winning; the kubelet\'s limits cut the rest', () => {
  const merged = podResolvConf(pod({ dnsConfig: { nameservers: ['10.43.0.10', '1.1.1.1', '8.8.8.8', '9.9.9.9'], searches: ['svc.cluster.local', 'extra.test'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }), cluster, host);
  assert.deepEqual(merged.nameservers, ['10.43.0.10', '1.1.1.1', '8.8.8.8'], 'three at most (glibc reads no more)');
  assert.deepEqual(merged.searches, ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'home.lan', 'extra.test']);
  assert.deepEqual(merged.options, ['ndots:2', 'edns0']);
});

test('parseResolvConf reads nameserver, search/domain and options lines, ignoring comments', () => {
  assert.deepEqual(parseResolvConf('# made by NetworkManager\nnameserver 192.168.1.1\nnameserver 10.0.0.1 ; second\nsearch a.lan b.lan\noptions rotate timeout:1\n'), { nameservers: ['192.168.1.1', '10.0.0.1'], searches: ['a.lan', 'b.lan'], options: ['rotate', 'timeout:1'] });
});

test('readHostResolvConf prefers systemd-resolved\'s upstream file and drops loopback servers a pod cannot reach', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bramble-resolv-'));
  try {
    await writeFile(join(dir, 'stub'), 'nameserver 127.0.0.53\nsearch lan\n');
    await writeFile(join(dir, 'upstream'), 'nameserver 192.168.1.1\nnameserver 127.0.0.1\nsearch lan\n');
    assert.deepEqual(await readHostResolvConf([join(dir, 'missing'), join(dir, 'upstream'), join(dir, 'stub')]), { nameservers: ['192.168.1.1'], searches: ['lan'], options: [] });
    assert.deepEqual((await readHostResolvConf([join(dir, 'stub')])).nameservers, []);
    // The board's own DNS server forwards from the board: a loopback resolver answers it there.
    assert.deepEqual((await readHostResolvConf([join(dir, 'upstream')], { keepLoopback: true })).nameservers, ['192.168.1.1', '127.0.0.1']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without a cluster DNS the engine\'s own file serves a plain pod: Bramble writes one only for None or a dnsConfig', () => {
  assert.equal(needsOwnResolvConf(pod(), undefined), false);
  assert.equal(needsOwnResolvConf(pod({ dnsPolicy: 'Default' }), undefined), false);
  assert.equal(needsOwnResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } }), undefined), true);
  assert.equal(needsOwnResolvConf(pod({ dnsConfig: { searches: ['x.test'] } }), undefined), true);
  assert.equal(needsOwnResolvConf(pod(), cluster), true);
});
