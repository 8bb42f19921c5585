// The proxy runner's pure parts: which UDP flows are forgotten between two applied plans, and the
// one-pass-at-a-time rule that coalesces a burst of changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialPass } from '../../../src/net/serial-pass.ts';
import { staleUdpFlows } from '../../../src/net/service-iptables.ts';
import type { PlannedPort } from '../../../src/net/service-rules.ts';

const dns = (endpoints: string[], nodePort?: number): PlannedPort => ({ name: 'kube-system/dns:dns', protocol: 'UDP', clusterIP: '10.43.0.10', port: 53, ...(nodePort ? { nodePort } : {}), endpoints });

test('a removed UDP endpoint: its flows to the ClusterIP and to the NodePort are deleted; a kept one is not', () => {
  assert.deepEqual(staleUdpFlows([dns(['10.42.1.9:53', '10.42.2.9:5353'], 30053)], [dns(['10.42.1.9:53'], 30053)]), [
    ['-D', '-p', 'udp', '--orig-dst', '10.43.0.10', '--orig-port-dst', '53', '--dst-nat', '10.42.2.9', '--reply-port-src', '5353'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.42.2.9', '--reply-port-src', '5353'],
  ]);
});

test('a UDP Service deleted: flows to all its endpoints go; TCP is left to its own connection end', () => {
  const tcp: PlannedPort = { name: 'default/web', protocol: 'TCP', clusterIP: '10.43.0.20', port: 80, endpoints: ['10.42.1.5:8080'] };
  assert.deepEqual(staleUdpFlows([dns(['10.42.1.9:53']), tcp], []), [['-D', '-p', 'udp', '--orig-dst', '10.43.0.10', '--orig-port-dst', '53', '--dst-nat', '10.42.1.9', '--reply-port-src', '53']]);
});

test('a UDP port that had no endpoint and now has one: the flows made meanwhile are deleted; a new Service or a first pass deletes nothing', () => {
  assert.deepEqual(staleUdpFlows([dns([], 30053)], [dns(['10.42.1.9:53'], 30053)]), [
    ['-D', '-p', 'udp', '--orig-dst', '10.43.0.10', '--orig-port-dst', '53'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30053'],
  ]);
  assert.deepEqual(staleUdpFlows([], [dns(['10.42.1.9:53'])]), []);
  assert.deepEqual(staleUdpFlows([dns(['10.42.1.9:53'])], [dns(['10.42.1.9:53'])]), []);
});

test('a burst of requests during a pass runs exactly one more pass after it, never two at once', async () => {
  let running = 0;
  let most = 0;
  let passes = 0;
  const gates: Array<() => void> = [];
  const runner = serialPass(
    async () => {
      running++;
      most = Math.max(most, running);
      passes++;
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
    },
    (error) => assert.fail(String(error)),
  );
  runner.request();
  for (let i = 0; i < 10; i++) runner.request();
  assert.equal(passes, 1);
  gates.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(passes, 2, 'one more for the whole burst');
  gates.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(passes, 2, 'and no third');
  assert.equal(most, 1);
  runner.stop();
  runner.request();
  assert.equal(passes, 2, 'nothing after stop');
});

test('a failing pass is reported and the next request runs again', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const runner = serialPass(async () => {
    calls++;
    if (calls === 1) throw new Error('iptables-restore exited 1');
  }, (error) => errors.push(error));
  runner.request();
  await new Promise((resolve) => setImmediate(resolve));
  runner.request();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls, 2);
  assert.equal((errors[0] as Error).message, 'iptables-restore exited 1');
});
