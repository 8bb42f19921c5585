// Where a node's logs/exec/metrics are forwarded: its published API listen address, its InternalIP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardTarget } from '../../../src/api/node-forward.ts';

test('a concrete listen address is dialled as it is, also when the InternalIP differs', () => {
  assert.deepEqual(forwardTarget('pi2', { host: '192.168.1.22', port: 6443 }, '192.168.1.22', 6443), { host: '192.168.1.22', port: 6443 });
  assert.deepEqual(forwardTarget('pi2', { host: '10.0.0.22', port: 7443 }, '192.168.1.22', 6443), { host: '10.0.0.22', port: 7443 });
  // A cluster on one machine: loopback everywhere.
  assert.deepEqual(forwardTarget('pi2', { host: '127.0.0.1', port: 7443 }, '127.0.0.1', 7443), { host: '127.0.0.1', port: 7443 });
});

test('an API on all addresses is dialled at the InternalIP; without one yet, 503 until the agent registers', () => {
  assert.deepEqual(forwardTarget('pi2', { host: '0.0.0.0', port: 6443 }, '192.168.1.22', 6443), { host: '192.168.1.22', port: 6443 });
  assert.deepEqual(forwardTarget('pi2', { host: '::', port: 6443 }, '192.168.1.22', undefined), { host: '192.168.1.22', port: 6443 });
  assert.deepEqual(forwardTarget('pi2', { host: '0.0.0.0', port: 6443 }, undefined, undefined), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'node pi2 has not published its address yet (its agent has not registered): try again once it shows Ready',
    reason: 'ServiceUnavailable',
    code: 503,
  });
});

test('an API on loopback of a board with a LAN address is refused with the flag to change', () => {
  const answer = forwardTarget('pi2', { host: '127.0.0.1', port: 6443 }, '192.168.1.22', 6443);
  assert.ok(!('host' in answer));
  assert.equal(answer.code, 503);
  assert.equal(answer.reason, 'ServiceUnavailable');
  assert.equal(answer.message, 'node pi2\'s API listens on 127.0.0.1:6443 only, so no other board reaches it for logs, exec or metrics: restart it with --api-addr 0.0.0.0:6443 or --api-addr 192.168.1.22:6443');
});

test('a node that published no listen address (an older version): InternalIP and daemonEndpoints port', () => {
  assert.deepEqual(forwardTarget('pi2', undefined, '192.168.1.22', 6443), { host: '192.168.1.22', port: 6443 });
  assert.equal((forwardTarget('pi2', undefined, '192.168.1.22', undefined) as { code: number }).code, 503);
});
