import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../../../src/raft/types.ts';
import { MemoryNetwork, MemoryTransport, type Transport } from '../../../../src/raftnode/transport/index.ts';
import { numbered, record } from './helpers.ts';
import { type ClusterOptions, transportContract } from './transport-contract.ts';
import { waitFor } from '../../../lib/wait.ts';

transportContract('MemoryTransport', async (ids: NodeId[], options: ClusterOptions = {}) => {
  const network = new MemoryNetwork();
  const transports: Record<NodeId, Transport> = {};
  for (const id of ids) {
    const clusterId = options.clusterIds?.[id];
    transports[id] = new MemoryTransport(network, { id, ...(clusterId === undefined ? {} : { clusterId }), ...options.limits });
  }
  return {
    transports,
    addressOf: (id) => `mem://${id}`,
    close: async () => {
      for (const transport of Object.values(transports)) await transport.stop();
    },
  };
});

test('MemoryTransport: two transports cannot share an address', async () => {
  const network = new MemoryNetwork();
  const first = new MemoryTransport(network, { id: 'a', address: 'shared' });
  const second = new MemoryTransport(network, { id: 'b', address: 'shared' });
  await first.start();
  await assert.rejects(second.start(), /already in use/);
  await first.stop();
});

test('MemoryTransport: a restarted node at the same address is reached again', async () => {
  const network = new MemoryNetwork();
  const a = new MemoryTransport(network, { id: 'a' });
  const b1 = new MemoryTransport(network, { id: 'b' });
  const atA = record(a);
  await a.start();
  await b1.start();
  a.addPeer('b', b1.address());
  const atB1 = record(b1);
  a.send(numbered('a', 'b', 1, 1));
  await waitFor('first at b1', () => atB1.messages.length === 1);
  await b1.stop();
  await waitFor('a sees b down', () => atA.unreachable.includes('b'));
  a.send(numbered('a', 'b', 2, 1));
  const b2 = new MemoryTransport(network, { id: 'b' });
  const atB2 = record(b2);
  await b2.start();
  await waitFor('second at b2', () => atB2.messages.length === 1);
  assert.equal(atB2.messages[0]?.index, 2);
  await a.stop();
  await b2.stop();
});
