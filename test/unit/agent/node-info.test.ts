import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bucketWithHysteresis, healthAnnotations } from '../../../src/agent/node-health.ts';
import { type NodeCondition, processPlatform, readNodeConditions, readNodeFacts, readNodeHealth } from '../../../src/agent/node-info.ts';
import { sampleNodeMetrics, toMetricsUsage } from '../../../src/agent/node-metrics.ts';
import { NodeHealthAnnotations } from '../../../src/client/index.ts';
import { fakePiHostRoot, removeFakePiHostRoots } from '../../lib/fake-pi-root.ts';

after(removeFakePiHostRoots);

function byType(conditions: NodeCondition[]): Record<string, NodeCondition> {
  return Object.fromEntries(conditions.map((c) => [c.type, c]));
}

const arm64Runtime = { runtimeName: 'docker', runtimeVersion: '28.2.2', platform: { os: 'linux' as const, architecture: 'arm64' as const, variant: 'v8' as const } };

describe('node facts', () => {
  test('a Pi 4 registers with its board model, arch labels, nodeInfo and allocatable minus the reserve', async () => {
    const hostRoot = await fakePiHostRoot();
    const facts = await readNodeFacts({
      nodeName: 'pi-kitchen',
      hostRoot,
      runtime: arm64Runtime,
      nodePlatform: arm64Runtime.platform,
      maxPods: 40,
      reservedMemoryBytes: 256 * 1024 * 1024,
      cpuCount: 4,
      memoryTotalBytes: 4 * 1024 * 1024 * 1024,
    });
    assert.equal(facts.boardModel, 'Raspberry Pi 4 Model B Rev 1.4');
    assert.deepEqual(facts.capacity, { cpu: '4', memory: '4194304Ki', pods: '40' });
    assert.deepEqual(facts.allocatable, { cpu: '4', memory: `${4194304 - 262144}Ki`, pods: '40' });
    assert.deepEqual(facts.labels, {
      'kubernetes.io/arch': 'arm64',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': 'pi-kitchen',
      'bramble.io/arch-variant': 'v8',
      'bramble.io/board': 'Raspberry-Pi-4-Model-B-Rev-1.4',
    });
    assert.equal(facts.nodeInfo.architecture, 'arm64');
    assert.equal(facts.nodeInfo.osImage, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(facts.nodeInfo.containerRuntimeVersion, 'docker://28.2.2');
    assert.equal(facts.nodeInfo.machineID, '0123456789abcdef0123456789abcdef');
    assert.equal(facts.nodeInfo.bootID, '11111111-2222-3333-4444-555555555555');
  });

  test('off a Pi (no device tree) there is no board model and no board label', async () => {
    const hostRoot = await fakePiHostRoot({ 'proc/device-tree/model': null, 'etc/os-release': null });
    const facts = await readNodeFacts({ nodeName: 'x86-box', hostRoot, runtime: { ...arm64Runtime, platform: { os: 'linux', architecture: 'amd64' } }, maxPods: 110, reservedMemoryBytes: 0 });
    assert.equal(facts.labels['kubernetes.io/arch'], processPlatform().architecture, 'the agent\'s own CPU by default');
    assert.equal(facts.boardModel, null);
    assert.equal(facts.labels['bramble.io/board'], undefined);
    assert.equal(facts.nodeInfo.osImage, 'Linux');
    assert.equal(facts.capacity.memory, `${Math.floor(os.totalmem() / 1024)}Ki`, 'defaults to the real host');
  });
});

describe('node conditions', () => {
  test('a healthy Pi: Ready, no pressure, memory cgroup on, temperature and power normal', async () => {
    const hostRoot = await fakePiHostRoot();
    const conditions = byType(await readNodeConditions({ hostRoot, dataDir: hostRoot, runtimeReachable: true, thresholds: { memoryAvailableMinBytes: 100 * 1024 * 1024, diskFreeMinFraction: 0, pidUsedMaxFraction: 0.9, temperatureMaxMillicelsius: 80_000 } }));
    assert.deepEqual(Object.keys(conditions), ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'MemoryCgroupMissing', 'ThermalThrottling', 'UnderVoltage']);
    assert.equal(conditions.Ready?.status, 'True');
    assert.equal(conditions.MemoryPressure?.status, 'False');
    assert.equal(conditions.DiskPressure?.status, 'False');
    assert.equal(conditions.PIDPressure?.status, 'False');
    assert.equal(conditions.MemoryCgroupMissing?.status, 'False');
    assert.deepEqual(conditions.ThermalThrottling, { type: 'ThermalThrottling', status: 'False', reason: 'TemperatureNormal', message: 'thermal_zone0 at 45.3 °C' });
    assert.deepEqual(conditions.UnderVoltage, { type: 'UnderVoltage', status: 'False', reason: 'PowerSupplyOk', message: 'power supply ok' });
  });

  test('a struggling Pi: low memory, memory cgroup disabled, hot, under-voltage now', async () => {
    const hostRoot = await fakePiHostRoot({
      'proc/meminfo': 'MemTotal:        3884096 kB\nMemAvailable:      51200 kB\n',
      'proc/cgroups': '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t80\t1\nmemory\t0\t0\t0\n',
      'sys/class/thermal/thermal_zone0/temp': '82000\n',
      'sys/class/thermal/thermal_zone1/temp': '60000\n',
      'sys/devices/platform/soc/soc:firmware/get_throttled': '0x50005\n',
    });
    const conditions = byType(await readNodeConditions({ hostRoot, dataDir: hostRoot, runtimeReachable: true }));
    assert.equal(conditions.MemoryPressure?.status, 'True');
    assert.match(conditions.MemoryPressure?.message ?? '', /only 50 MiB available/);
    assert.equal(conditions.MemoryCgroupMissing?.status, 'True');
    assert.match(conditions.MemoryCgroupMissing?.message ?? '', /cgroup_enable=memory cgroup_memory=1.*cmdline\.txt.*reboot/);
    assert.equal(conditions.ThermalThrottling?.status, 'True');
    assert.match(conditions.ThermalThrottling?.message ?? '', /thermal_zone0 at 82\.0 °C/);
    assert.equal(conditions.UnderVoltage?.status, 'True');
    assert.match(conditions.UnderVoltage?.message ?? '', /0x50005.*power|supply/);
  });

  test('under-voltage that happened since boot, a kernel without the memory controller, unreadable flags', async () => {
    const occurred = byType(await readNodeConditions({ hostRoot: await fakePiHostRoot({ 'sys/devices/platform/soc/soc:firmware/get_throttled': '0x50000\n', 'proc/cgroups': '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t1\t1\n' }), dataDir: os.tmpdir(), runtimeReachable: true }));
    assert.equal(occurred.UnderVoltage?.status, 'False');
    assert.equal(occurred.UnderVoltage?.reason, 'UnderVoltageOccurred');
    assert.equal(occurred.MemoryCgroupMissing?.status, 'True', 'no memory line at all');
    const garbled = byType(await readNodeConditions({ hostRoot: await fakePiHostRoot({ 'sys/devices/platform/soc/soc:firmware/get_throttled': 'nonsense\n', 'proc/meminfo': 'nothing useful\n' }), dataDir: os.tmpdir(), runtimeReachable: true }));
    assert.equal(garbled.UnderVoltage?.status, 'Unknown');
    assert.equal(garbled.MemoryPressure?.status, 'Unknown');
  });

  test('the firmware throttling the CPU (get_throttled bits 2-3) below our threshold is ThermalThrottling too, with its likely cause', async () => {
    const warm = byType(await readNodeConditions({ hostRoot: await fakePiHostRoot({ 'sys/class/thermal/thermal_zone0/temp': '61000\n', 'sys/devices/platform/soc/soc:firmware/get_throttled': '0x8\n' }), dataDir: os.tmpdir(), runtimeReachable: true }));
    assert.equal(warm.ThermalThrottling?.status, 'True');
    assert.equal(warm.ThermalThrottling?.reason, 'FirmwareThrottling');
    assert.match(warm.ThermalThrottling?.message ?? '', /flags 0x8, thermal_zone0 at 61\.0 °C.*heat/);
    assert.equal(warm.UnderVoltage?.status, 'False');
    const weakSupply = byType(await readNodeConditions({ hostRoot: await fakePiHostRoot({ 'sys/devices/platform/soc/soc:firmware/get_throttled': '0x50005\n' }), dataDir: os.tmpdir(), runtimeReachable: true }));
    assert.equal(weakSupply.ThermalThrottling?.reason, 'FirmwareThrottling');
    assert.match(weakSupply.ThermalThrottling?.message ?? '', /under-voltage/);
    assert.equal(weakSupply.UnderVoltage?.status, 'True');
    const noSensor = byType(await readNodeConditions({ hostRoot: await fakePiHostRoot({ 'sys/class/thermal/thermal_zone0/temp': null, 'sys/class/thermal/thermal_zone0/type': null, 'sys/devices/platform/soc/soc:firmware/get_throttled': '0x4\n' }), dataDir: os.tmpdir(), runtimeReachable: true }));
    assert.equal(noSensor.ThermalThrottling?.status, 'True', 'the firmware says so even without a thermal zone');
    const capped = byType(await readNodeConditions({ hostRoot: await fakePiHostRoot({ 'sys/devices/platform/soc/soc:firmware/get_throttled': '0x40000\n' }), dataDir: os.tmpdir(), runtimeReachable: true }));
    assert.equal(capped.ThermalThrottling?.status, 'False', 'throttled since boot but not now');
  });

  test('no sensors and no firmware: no thermal or power condition instead of a guess', async () => {
    const hostRoot = await fakePiHostRoot({ 'sys/class/thermal/thermal_zone0/temp': null, 'sys/class/thermal/thermal_zone0/type': null, 'sys/devices/platform/soc/soc:firmware/get_throttled': null });
    const conditions = byType(await readNodeConditions({ hostRoot, dataDir: hostRoot, runtimeReachable: true }));
    assert.equal(conditions.ThermalThrottling, undefined);
    assert.equal(conditions.UnderVoltage, undefined);
  });

  test('disk pressure follows the free fraction of the data directory (real statfs); an unreachable engine is not Ready', async () => {
    const hostRoot = await fakePiHostRoot();
    const thresholds = { memoryAvailableMinBytes: 0, diskFreeMinFraction: 1.01, pidUsedMaxFraction: 0.9, temperatureMaxMillicelsius: 80_000 };
    const conditions = byType(await readNodeConditions({ hostRoot, dataDir: hostRoot, runtimeReachable: false, thresholds }));
    assert.equal(conditions.DiskPressure?.status, 'True', 'no filesystem has more than 100% free');
    assert.equal(conditions.Ready?.status, 'False');
    assert.equal(conditions.Ready?.reason, 'ContainerRuntimeUnreachable');
    const missing = byType(await readNodeConditions({ hostRoot, dataDir: join(hostRoot, 'no-such-dir'), runtimeReachable: true }));
    assert.equal(missing.DiskPressure?.status, 'Unknown');
  });
});

describe('node metrics', () => {
  test('a sample of the real host is in range, with the temperature of the (fake) thermal zones', async () => {
    const hostRoot = await fakePiHostRoot({ 'sys/class/thermal/thermal_zone1/temp': '51000\n' });
    await sampleNodeMetrics({ dataDir: hostRoot, hostRoot }); // the first CPU sample has no previous one to diff against
    const sample = await sampleNodeMetrics({ dataDir: hostRoot, hostRoot });
    assert.equal(sample.memoryTotalBytes, os.totalmem());
    assert.ok(sample.memoryWorkingSetBytes > 0 && sample.memoryWorkingSetBytes < sample.memoryTotalBytes);
    assert.ok(sample.cpuUsageNanocores >= 0 && sample.cpuUsageNanocores <= os.availableParallelism() * 1e9 * 1.01, `cpu ${sample.cpuUsageNanocores}`);
    assert.ok(sample.filesystem.capacityBytes > 0 && sample.filesystem.usedBytes <= sample.filesystem.capacityBytes);
    assert.equal(sample.temperatureMillicelsius, 51000);
    const usage = toMetricsUsage(sample);
    assert.match(usage.cpu, /^\d+n$/);
    assert.equal(usage.memory, `${Math.floor(sample.memoryWorkingSetBytes / 1024)}Ki`);
  });
});

describe('node health inputs', () => {
  test('readNodeHealth: the hottest zone and the 5-minute load per CPU of the fake Pi; nulls without sensors or loadavg', async () => {
    const hostRoot = await fakePiHostRoot({ 'sys/class/thermal/thermal_zone1/temp': '51000\n', 'proc/loadavg': '3.10 1.80 0.90 2/215 4242\n' });
    assert.deepEqual(await readNodeHealth(hostRoot, 4), { temperatureMillicelsius: 51000, loadPerCpu: 0.45 });
    const bare = await fakePiHostRoot({ 'sys/class/thermal/thermal_zone0/temp': null, 'sys/class/thermal/thermal_zone0/type': null, 'proc/loadavg': null });
    assert.deepEqual(await readNodeHealth(bare, 4), { temperatureMillicelsius: null, loadPerCpu: null });
    await writeFile(join(bare, 'proc/loadavg'), 'garbage\n');
    assert.equal((await readNodeHealth(bare, 4)).loadPerCpu, null);
  });

  test('buckets: nearest multiple at first, then kept until the reading is a quarter step past the edge', () => {
    assert.equal(bucketWithHysteresis(47.4, 5, undefined), 45);
    assert.equal(bucketWithHysteresis(47.6, 5, undefined), 50);
    assert.equal(bucketWithHysteresis(48.7, 5, 45), 45, 'within 3.75 °C of 45: kept');
    assert.equal(bucketWithHysteresis(48.8, 5, 45), 50);
    assert.equal(bucketWithHysteresis(46.3, 5, 50), 50, 'on the way back down, kept until below 46.25');
    assert.equal(bucketWithHysteresis(46.2, 5, 50), 45);
    assert.equal(bucketWithHysteresis(71, 5, 45), 70, 'a jump goes to the nearest bucket');
    assert.equal(bucketWithHysteresis(0.68, 0.25, 0.5), 0.5);
    assert.equal(bucketWithHysteresis(0.69, 0.25, 0.5), 0.75);
    // A reading wandering across an edge (47.5 °C) publishes one value, not one per check.
    let published: number | undefined;
    const seen = new Set<number>();
    for (const c of [47.0, 47.9, 46.8, 48.2, 47.1, 48.6, 46.5]) seen.add((published = bucketWithHysteresis(c, 5, published)));
    assert.deepEqual([...seen], [45]);
  });

  test('healthAnnotations: formatted buckets; a missing reading has no annotation', () => {
    assert.deepEqual(healthAnnotations({ temperatureMillicelsius: 45_277, loadPerCpu: 0.13 }, undefined), { [NodeHealthAnnotations.temperatureCelsius]: '45', [NodeHealthAnnotations.loadPerCpu]: '0.25' });
    assert.deepEqual(healthAnnotations({ temperatureMillicelsius: 48_000, loadPerCpu: 0.3 }, { [NodeHealthAnnotations.temperatureCelsius]: '45', [NodeHealthAnnotations.loadPerCpu]: '0.25' }), { [NodeHealthAnnotations.temperatureCelsius]: '45', [NodeHealthAnnotations.loadPerCpu]: '0.25' });
    assert.deepEqual(healthAnnotations({ temperatureMillicelsius: null, loadPerCpu: 1.9 }, { [NodeHealthAnnotations.temperatureCelsius]: 'junk' }), { [NodeHealthAnnotations.loadPerCpu]: '2' });
    assert.deepEqual(healthAnnotations({ temperatureMillicelsius: null, loadPerCpu: 3.4 }, { [NodeHealthAnnotations.loadPerCpu]: '2' }), { [NodeHealthAnnotations.loadPerCpu]: '2' }, 'capped at 2 per CPU');
  });
});
