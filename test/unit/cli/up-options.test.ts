import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/cli/output.ts';
import { DEFAULT_FAIRNESS } from '../../../src/api/fairness.ts';
import { parseHostPort, parseUpOptions, withEnvFlags } from '../../../src/cli/up-options.ts';

const defaults = { hostname: 'Pi-Kitchen.local' };

describe('bramble up options', () => {
  test('defaults: name from the hostname, loopback addresses, data dir under .bramble', () => {
    const options = parseUpOptions({}, defaults);
    assert.equal(options.name, 'pi-kitchen-local');
    assert.deepEqual(options.peerAddress, { host: '127.0.0.1', port: 7380 });
    assert.deepEqual(options.clientAddress, { host: '127.0.0.1', port: 7379 });
    assert.equal(options.dataDir, '.bramble/pi-kitchen-local');
    assert.equal(options.initialCluster, null);
    assert.equal(options.join, null);
    assert.equal(options.tickIntervalMs, 100);
    assert.equal(options.runtime, 'docker');
    assert.equal(options.hostRoot, '/');
    assert.equal(options.nodeStatusIntervalMs, 10_000);
  });

  test('a static cluster lists every member with its peer address', () => {
    const options = parseUpOptions(
      { name: 'a', peerAddr: '10.0.0.1:7380', initialCluster: 'a=10.0.0.1:7380, b=10.0.0.2:7380,c=[fe80::1]:7380' },
      defaults,
    );
    assert.deepEqual(options.initialCluster, {
      a: { host: '10.0.0.1', port: 7380 },
      b: { host: '10.0.0.2', port: 7380 },
      c: { host: 'fe80::1', port: 7380 },
    });
  });

  test('--cluster-cidr: 10.42.0.0/16 by default, normalised, refused at start with a precise message', () => {
    assert.equal(parseUpOptions({}, defaults).clusterCidr, '10.42.0.0/16');
    assert.equal(parseUpOptions({ clusterCidr: ' 192.168.0.0/20 ' }, defaults).clusterCidr, '192.168.0.0/20');
    const refusals: [string, string][] = [
      ['10.42.0.0', '--cluster-cidr: "10.42.0.0" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.42.0.0/16'],
      ['10.420.0.0/16', '--cluster-cidr: "10.420.0.0/16" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.42.0.0/16'],
      ['fd00::/64', '--cluster-cidr: "fd00::/64" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.42.0.0/16'],
      ['10.42.0.0/33', '--cluster-cidr: "10.42.0.0/33" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.42.0.0/16'],
      ['10.42.0.0/25', '--cluster-cidr: 10.42.0.0/25 is too small: each board gets a /24, so the prefix must be /24 or shorter (e.g. 10.42.0.0/16: 256 boards)'],
      ['10.42.1.0/16', '--cluster-cidr: 10.42.1.0/16 has host bits set: the network is 10.42.0.0/16'],
    ];
    for (const [clusterCidr, message] of refusals) {
      assert.throws(() => parseUpOptions({ clusterCidr }, defaults), (error: Error) => error instanceof UsageError && error.message === message);
    }
  });

  test('--service-cidr: 10.43.0.0/16 by default, normalised, refused at start with a precise message', () => {
    assert.equal(parseUpOptions({}, defaults).serviceCidr, '10.43.0.0/16');
    assert.equal(parseUpOptions({ serviceCidr: ' 10.96.0.0/12 ' }, defaults).serviceCidr, '10.96.0.0/12');
    const refusals: [Record<string, string>, string][] = [
      [{ serviceCidr: '10.43.0.0' }, '--service-cidr: "10.43.0.0" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.43.0.0/16'],
      [{ serviceCidr: '10.43.0.0/29' }, "--service-cidr: 10.43.0.0/29 is too small: the DNS Service takes the range's 10th address, so the prefix must be /28 or shorter (e.g. 10.43.0.0/16)"],
      [{ serviceCidr: '10.0.0.0/8' }, '--service-cidr: 10.0.0.0/8 is too large: at most a /12 (1,048,576 addresses), as Kubernetes allows (e.g. 10.43.0.0/16)'],
      [{ serviceCidr: '10.43.0.1/16' }, '--service-cidr: 10.43.0.1/16 has host bits set: the network is 10.43.0.0/16'],
      [{ serviceCidr: '10.42.128.0/20' }, '--service-cidr: 10.42.128.0/20 overlaps the cluster CIDR 10.42.0.0/16 (the pods\' addresses): choose a range apart from it, e.g. 10.43.0.0/16'],
      [{ serviceCidr: '10.40.0.0/14', clusterCidr: '10.42.0.0/16' }, '--service-cidr: 10.40.0.0/14 overlaps the cluster CIDR 10.42.0.0/16 (the pods\' addresses): choose a range apart from it, e.g. 10.43.0.0/16'],
    ];
    for (const [flags, message] of refusals) {
      assert.throws(() => parseUpOptions(flags, defaults), (error: Error) => error instanceof UsageError && error.message === message);
    }
  });

  test('--pod-network: host-gw by default with the Docker runtime, off without one; host-gw only with Docker', () => {
    assert.equal(parseUpOptions({}, defaults).podNetwork, 'host-gw');
    assert.equal(parseUpOptions({ runtime: 'docker' }, defaults).podNetwork, 'host-gw');
    assert.equal(parseUpOptions({ runtime: 'none' }, defaults).podNetwork, 'off');
    assert.equal(parseUpOptions({ podNetwork: 'off' }, defaults).podNetwork, 'off');
    assert.equal(parseUpOptions({ podNetwork: 'host-gw' }, defaults).podNetwork, 'host-gw');
    assert.throws(() => parseUpOptions({ podNetwork: 'vxlan' }, defaults), (error: Error) => error instanceof UsageError && error.message === '--pod-network must be host-gw or off, got "vxlan"');
    assert.throws(
      () => parseUpOptions({ podNetwork: 'host-gw', runtime: 'none' }, defaults),
      (error: Error) => error instanceof UsageError && error.message === '--pod-network host-gw needs --runtime docker: the pod bridge is a Docker network',
    );
  });

  test('parses host:port including IPv6 in brackets, and refuses the rest', () => {
    assert.deepEqual(parseHostPort('[::1]:80', '--x'), { host: '::1', port: 80 });
    for (const bad of ['nohost', 'host:0', 'host:70000', ':80', 'a b:80']) {
      assert.throws(() => parseHostPort(bad, '--peer-addr'), (error: Error) => error instanceof UsageError && /--peer-addr ".*" is not host:port/.test(error.message));
    }
  });

  test('API limits: the defaults, the three flags (a rate may be fractional), and BRAMBLE_API_USER_* variables', () => {
    assert.deepEqual(parseUpOptions({}, defaults).apiFairness, DEFAULT_FAIRNESS);
    const given = parseUpOptions({ apiUserQps: '0.5', apiUserBurst: '7', apiUserMaxInflight: '3' }, defaults).apiFairness;
    assert.deepEqual(given, { ...DEFAULT_FAIRNESS, user: { qps: 0.5, burst: 7, maxInflight: 3 } });
    const fromEnv = parseUpOptions(withEnvFlags({ apiUserBurst: '9' }, { BRAMBLE_API_USER_QPS: '4', BRAMBLE_API_USER_BURST: '99', BRAMBLE_API_USER_MAX_INFLIGHT: '2' }), defaults).apiFairness;
    assert.deepEqual(fromEnv?.user, { qps: 4, burst: 9, maxInflight: 2 });
  });

  const refusals: [string, Parameters<typeof parseUpOptions>[0], RegExp][] = [
    ['bad node name', { name: 'Bad_Name' }, /"Bad_Name" is not a valid node name/],
    ['both bootstrap and join', { name: 'a', initialCluster: 'a=127.0.0.1:7380', join: '127.0.0.1:7379' }, /exclude each other/],
    ['initial cluster without this node', { name: 'a', initialCluster: 'b=127.0.0.1:7380' }, /must include this node \("a"\); it lists b/],
    ['member named twice', { name: 'a', initialCluster: 'a=127.0.0.1:7380,a=127.0.0.1:7381' }, /names "a" twice/],
    ['entry without =', { name: 'a', initialCluster: 'a=127.0.0.1:7380,127.0.0.1:7381' }, /entry "127.0.0.1:7381" is not name=host:port/],
    ['own address differs from --peer-addr', { name: 'a', peerAddr: '127.0.0.1:9000', initialCluster: 'a=127.0.0.1:7380' }, /must be the same/],
    ['heartbeat not below election timeout', { name: 'a', heartbeatTicks: '10', electionTicks: '10' }, /must be smaller than --election-ticks/],
    ['tick not a number', { name: 'a', tickMs: 'fast' }, /--tick-ms must be a positive whole number, got "fast"/],
    ['unknown log level', { name: 'a', logLevel: 'loud' }, /--log-level must be one of/],
    ['unknown container runtime', { name: 'a', runtime: 'podman' }, /--runtime must be docker or none, got "podman"/],
    ['node status interval not a number', { name: 'a', nodeStatusMs: '0' }, /--node-status-ms must be a positive whole number/],
    ['compaction interval not a number', { name: 'a', compactIntervalMs: '5m' }, /--compact-interval-ms must be a positive whole number, got "5m"/],
    ['API user rate of zero', { name: 'a', apiUserQps: '0' }, /--api-user-qps must be a positive number, got "0"/],
    ['API user burst not whole', { name: 'a', apiUserBurst: '2.5' }, /--api-user-burst must be a positive whole number, got "2.5"/],
    ['API user in-flight cap empty', { name: 'a', apiUserMaxInflight: '' }, /--api-user-max-inflight must be a positive whole number, got ""/],
  ];
  for (const [what, flags, message] of refusals) {
    test(`refuses ${what} with a message saying what to do`, () => {
      assert.throws(() => parseUpOptions(flags, defaults), (error: Error) => error instanceof UsageError && message.test(error.message));
    });
  }
});
