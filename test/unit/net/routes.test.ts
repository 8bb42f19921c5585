// The host-gw route plan from given states: add, keep, move, remove, and leave others' routes alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
