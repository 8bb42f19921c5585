// The host-gw route plan from given states: add, keep, move, remove, and leave others' routes alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../src/client/index.ts';
import { peerSubnets } from '../../../src/net/pod-network.ts';
import { planRoutes } from '../../../src/net/routes.ts';

const peer = (node: string, podCIDR: string, via: string) => ({ node, podCIDR, via });

test('a route per peer subnet; nothing to do when they are in place', () => {
  const peers = [peer('pi1', '10.42.1.0/24', '192.168.1.11'), peer('pi2', '10.42.2.0/24', '192.168.1.12')];
  assert.deepEqual(planRoutes(peers, [], new Set()), {
    set: [
      { dst: '10.42.1.0/24', via: '192.168.1.11' },
      { dst: '10.42.2.0/24', via: '192.168.1.12' },
    ],
    remove: [],
    foreign: [],
  });
  const ours = [
    { dst: '10.42.1.0/24', via: '192.168.1.11' },
    { dst: '10.42.2.0/24', via: '192.168.1.12' },
  ];
  assert.deepEqual(planRoutes(peers, ours, new Set()), { set: [], remove: [], foreign: [] });
});

test('a peer whose address changed gets its route replaced; a gone peer loses its route', () => {
  const ours = [
    { dst: '10.42.1.0/24', via: '192.168.1.11' },
    { dst: '10.42.2.0/24', via: '192.168.1.12' },
  ];
  assert.deepEqual(planRoutes([peer('pi1', '10.42.1.0/24', '192.168.1.51')], ours, new Set()), {
    set: [{ dst: '10.42.1.0/24', via: '192.168.1.51' }],
    remove: [{ dst: '10.42.2.0/24', via: '192.168.1.12' }],
    foreign: [],
  });
});

test('a subnet another route already covers is reported and left alone; others are never removed', () => {
  assert.deepEqual(planRoutes([peer('pi3', '10.42.3.0/24', '192.168.1.13')], [], new Set(['10.42.3.0/24', 'default', '192.168.1.0/24'])), {
    set: [],
    remove: [],
    foreign: [{ node: 'pi3', dst: '10.42.3.0/24' }],
  });
});

test('peers: every other Node with a podCIDR and an InternalIP, by name; this board and the incomplete ones left out', () => {
  const node = (name: string, podCIDR?: string, internalIP?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: podCIDR ? { podCIDR } : {},
    status: { addresses: [{ type: 'Hostname', address: name }, ...(internalIP ? [{ type: 'InternalIP', address: internalIP }] : [])] },
  });
  const nodes = [node('pi3', '10.42.3.0/24', '192.168.1.13'), node('pi0', '10.42.0.0/24', '192.168.1.10'), node('new', undefined, '192.168.1.20'), node('pi1', '10.42.1.0/24', '192.168.1.11'), node('noaddr', '10.42.4.0/24')];
  assert.deepEqual(peerSubnets(nodes, 'pi0'), [
    { node: 'pi1', podCIDR: '10.42.1.0/24', via: '192.168.1.11' },
    { node: 'pi3', podCIDR: '10.42.3.0/24', via: '192.168.1.13' },
  ]);
});
