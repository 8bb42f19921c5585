// The board's address is derived again at every status check (a DHCP lease that moves the board):
// startAgent with an address source writes the Node's InternalIP when it changed and nothing when it
// did not, on a real single-member Raft node's store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startAgent, type RunningAgent } from '../../../src/agent/agent.ts';
import { asNode, InProcessClient, Kinds } from '../../../src/client/index.ts';
import { fakePiHostRoot, removeFakePiHostRoots } from '../../lib/fake-pi-root.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';

let n: InProcessNode;
let agent: RunningAgent;
let dataDir: string;
let address = '192.168.1.20';
let asked = 0;

before(async () => {
  n = await startInProcessNode('pi-dhcp');
  dataDir = mkdtempSync(join(os.tmpdir(), 'bramble-dhcp-data-'));
  agent = await startAgent({
    client: new InProcessClient(n.registry),
    nodeName: 'pi-dhcp',
    dataDir,
    hostRoot: await fakePiHostRoot({}),
    runtime: 'none',
    internalIP: async () => {
      asked++;
      return address;
    },
    apiPort: 6443,
    logger: pino({ level: 'silent' }),
    nodeStatusIntervalMs: 3_600_000, // the test drives syncNode itself
    metricsIntervalMs: 3_600_000,
  });
});
after(async () => {
  await agent.stop();
  await n.stop();
  rmSync(dataDir, { recursive: true, force: true });
  await removeFakePiHostRoots();
});

const internalIP = async (): Promise<string | undefined> =>
  asNode(await new InProcessClient(n.registry).get(Kinds.nodes, undefined, 'pi-dhcp')).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

test('a moved address is written at the next status check; an unchanged one writes nothing', async () => {
  assert.equal(await internalIP(), '192.168.1.20');
  await agent.syncNode();
  const writes = agent.registration.writes;
  const askedBefore = asked;
  await agent.syncNode();
  assert.equal(agent.registration.writes, writes, 'the same address: no write');
  assert.ok(asked > askedBefore, 'the address is derived again at each check');
  address = '192.168.1.57';
  await agent.syncNode();
  assert.equal(await internalIP(), '192.168.1.57');
  assert.equal(agent.registration.writes, writes + 1);
});
