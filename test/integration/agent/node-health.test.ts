// The agent publishes the node-health score's inputs: from a fake Pi sysfs root (a real Pi's sensors
// cannot exist here) through startAgent's Node sync into a real single-member Raft node's store,
// as coarse annotations written only when a bucket changes; the scheduler's score reads them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startAgent, type RunningAgent } from '../../../src/agent/agent.ts';
import { readNodeConditions, readNodeFacts, readNodeHealth } from '../../../src/agent/node-info.ts';
import { DEFAULT_HEALTH_MIN_INTERVAL_MS, NodeRegistration } from '../../../src/agent/node-registration.ts';
import { asNode, InProcessClient, Kinds, NodeHealthAnnotations, type Node } from '../../../src/client/index.ts';
import { nodeHealthOf } from '../../../src/control/scheduler/scores.ts';
import { fakePiHostRoot, removeFakePiHostRoots } from '../../lib/fake-pi-root.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';

let n: InProcessNode;
let agent: RunningAgent;
let hostRoot: string;
let dataDir: string;
const cpus = os.availableParallelism();
const loadavg = (fiveMinutesPerCpu: number) => `0.10 ${(fiveMinutesPerCpu * cpus).toFixed(2)} 0.05 1/200 999\n`;

before(async () => {
  n = await startInProcessNode('pi-health');
  hostRoot = await fakePiHostRoot({ 'sys/class/thermal/thermal_zone0/temp': '45277\n', 'proc/loadavg': loadavg(0.5) });
  dataDir = mkdtempSync(join(os.tmpdir(), 'bramble-health-data-'));
  agent = await startAgent({
    client: new InProcessClient(n.registry),
    nodeName: 'pi-health',
    dataDir,
    hostRoot,
    runtime: 'none',
    internalIP: '127.0.0.1',
    apiPort: 6443,
    logger: pino({ level: 'silent' }),
    nodeStatusIntervalMs: 3_600_000, // the test drives syncNode itself
    metricsIntervalMs: 3_600_000,
    healthMinIntervalMs: 0, // every bucket change is written at once here; the interval has its own test below
  });
});
after(async () => {
  await agent.stop();
  await n.stop();
  rmSync(dataDir, { recursive: true, force: true });
  await removeFakePiHostRoots();
});

const stored = async (): Promise<Node> => asNode(await new InProcessClient(n.registry).get(Kinds.nodes, undefined, 'pi-health'));

test('temperature and load are published as buckets, rewritten only when a bucket changes; a throttling board scores lowest', async () => {
  let node = await stored();
  assert.equal(node.metadata.annotations?.[NodeHealthAnnotations.temperatureCelsius], '45');
  assert.equal(node.metadata.annotations?.[NodeHealthAnnotations.loadPerCpu], '0.5');
  assert.equal(node.metadata.annotations?.['bramble.io/board-model'], 'Raspberry Pi 4 Model B Rev 1.4', 'the other annotation is kept');
  const healthy = nodeHealthOf(node);
  assert.ok(Math.abs(healthy - (10 + 90 * (0.875 + 0.5) / 2)) < 1e-9, `score ${healthy}`);

  // Idle, and readings that wander within their buckets: no write.
  const writes = agent.registration.writes;
  await agent.syncNode();
  await writeFile(join(hostRoot, 'sys/class/thermal/thermal_zone0/temp'), '48100\n');
  await writeFile(join(hostRoot, 'proc/loadavg'), loadavg(0.6));
  await agent.syncNode();
  await writeFile(join(hostRoot, 'sys/class/thermal/thermal_zone0/temp'), '46900\n');
  await agent.syncNode();
  assert.equal(agent.registration.writes, writes, 'no Raft write while the buckets hold');

  // Past the edge plus the hysteresis: one write with the new bucket.
  await writeFile(join(hostRoot, 'sys/class/thermal/thermal_zone0/temp'), '49200\n');
  await agent.syncNode();
  assert.equal(agent.registration.writes, writes + 1);
  node = await stored();
  assert.equal(node.metadata.annotations?.[NodeHealthAnnotations.temperatureCelsius], '50');
  assert.ok(nodeHealthOf(node) < healthy, 'warmer scores lower');

  // Hot: ThermalThrottling=True, the lowest score.
  await writeFile(join(hostRoot, 'sys/class/thermal/thermal_zone0/temp'), '82000\n');
  await agent.syncNode();
  node = await stored();
  assert.equal(node.status?.conditions?.find((c) => c.type === 'ThermalThrottling')?.status, 'True');
  assert.equal(node.metadata.annotations?.[NodeHealthAnnotations.temperatureCelsius], '80');
  assert.equal(nodeHealthOf(node), 0);

  // The sensor disappears: its annotation goes (no stale temperature), the load stays.
  rmSync(join(hostRoot, 'sys/class/thermal'), { recursive: true, force: true });
  await agent.syncNode();
  node = await stored();
  assert.equal(node.metadata.annotations?.[NodeHealthAnnotations.temperatureCelsius], undefined);
  assert.equal(node.metadata.annotations?.[NodeHealthAnnotations.loadPerCpu], '0.5');
});

test('a board whose load wanders: health-only changes are written at most once per interval (store revisions), any other change at once with them', async () => {
  const name = 'pi-wander';
  const root = await fakePiHostRoot({ 'sys/class/thermal/thermal_zone0/temp': '45000\n', 'proc/loadavg': loadavg(0.25) });
  const runtime = { runtimeName: 'none', runtimeVersion: '0', platform: { os: 'linux' as const, architecture: 'amd64' as const } };
  let nowMs = 1_000_000;
  const registration = new NodeRegistration({ client: new InProcessClient(n.registry), nodeName: name, internalIP: '127.0.0.1', apiPort: 6443, now: () => nowMs });
  const sync = async () =>
    registration.sync({ facts: await readNodeFacts({ hostRoot: root, nodeName: name, runtime, maxPods: 110, reservedMemoryBytes: 0 }), conditions: await readNodeConditions({ hostRoot: root, dataDir, runtimeReachable: true }), health: await readNodeHealth(root, cpus) });
  const annotationsOf = async () => ((await new InProcessClient(n.registry).get(Kinds.nodes, undefined, name)).metadata.annotations ?? {}) as Record<string, string>;

  assert.equal(await sync(), 'created');
  const afterCreate = n.store.local.revision();
  // The load jumps from bucket to bucket at every 10 s check for almost five minutes: no write.
  for (let check = 1; check * 10_000 < DEFAULT_HEALTH_MIN_INTERVAL_MS; check++) {
    nowMs += 10_000;
    await writeFile(join(root, 'proc/loadavg'), loadavg(check % 2 === 0 ? 0.25 : 1.5));
    assert.equal(await sync(), 'unchanged', `check ${check}`);
  }
  assert.equal(n.store.local.revision(), afterCreate, 'no store revision while only the load moved within the interval');
  assert.equal((await annotationsOf())[NodeHealthAnnotations.loadPerCpu], '0.25', 'the stored bucket stands');

  // The interval is over: the moved bucket is written, once.
  await writeFile(join(root, 'proc/loadavg'), loadavg(1.5));
  nowMs = 1_000_000 + DEFAULT_HEALTH_MIN_INTERVAL_MS;
  assert.equal(await sync(), 'updated');
  assert.equal(n.store.local.revision(), afterCreate + 1);
  assert.equal((await annotationsOf())[NodeHealthAnnotations.loadPerCpu], '1.5');

  // Within the next interval a condition changes (the board overheats): written at once, with the fresh load.
  nowMs += 10_000;
  await writeFile(join(root, 'proc/loadavg'), loadavg(0.5));
  await writeFile(join(root, 'sys/class/thermal/thermal_zone0/temp'), '82000\n');
  assert.equal(await sync(), 'updated');
  assert.equal(n.store.local.revision(), afterCreate + 2);
  const hot = await annotationsOf();
  assert.equal(hot[NodeHealthAnnotations.loadPerCpu], '0.5');
  assert.equal(hot[NodeHealthAnnotations.temperatureCelsius], '80');

  // A reading that disappears is not held back: its annotation goes at once.
  nowMs += 10_000;
  rmSync(join(root, 'sys/class/thermal'), { recursive: true, force: true });
  assert.equal(await sync(), 'updated');
  assert.equal((await annotationsOf())[NodeHealthAnnotations.temperatureCelsius], undefined);
  assert.equal(registration.writes, 4);
});
