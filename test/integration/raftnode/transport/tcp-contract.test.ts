// The Transport contract against real sockets on 127.0.0.1.

import type { NodeId } from '../../../../src/raft/types.ts';
import { TcpTransport, type Transport } from '../../../../src/raftnode/transport/index.ts';
import { freePort } from '../../../lib/ports.ts';
import { silentLogger } from '../../../unit/raftnode/transport/helpers.ts';
import { type ClusterOptions, transportContract } from '../../../unit/raftnode/transport/transport-contract.ts';

transportContract('TcpTransport', async (ids: NodeId[], options: ClusterOptions = {}) => {
  const addresses: Record<NodeId, string> = {};
  const transports: Record<NodeId, Transport> = {};
  for (const id of ids) {
    addresses[id] = `127.0.0.1:${await freePort()}`;
    const clusterId = options.clusterIds?.[id];
    transports[id] = new TcpTransport({
      id,
      listenAddress: addresses[id],
      logger: silentLogger,
      ...(clusterId === undefined ? {} : { clusterId }),
      reconnectBackoffBaseMs: 10,
      reconnectBackoffMaxMs: 50,
      ...options.limits,
    });
  }
  return {
    transports,
    addressOf: (id) => addresses[id] ?? `unknown node ${id}`,
    close: async () => {
      for (const transport of Object.values(transports)) await transport.stop();
    },
  };
});
