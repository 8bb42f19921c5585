import { readdir, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import si from 'systeminformation';

/** One sample of the node's usage, in the units metrics.k8s.io serves. */
export interface NodeMetricsSample {
  timestamp: Date;
  /** CPU in use across all cores since the previous sample; 1e9 = one core busy. */
  cpuUsageNanocores: number;
  /** Total minus available (what kubelet calls the working set on a node). */
  memoryWorkingSetBytes: number;
  memoryTotalBytes: number;
  filesystem: { path: string; usedBytes: number; capacityBytes: number };
  /** The hottest thermal zone, or null where the host has none. */
  temperatureMillicelsius: number | null;
}

/**
 * Samples node usage without spawning a process, so it can run every few seconds on a Pi:
 * systeminformation's currentLoad (os.cpus) and mem (/proc/meminfo) read in-process; its
 * fsSize and cpuTemperature spawn `df` and `cat`, so disk and temperature are read here directly
 * (statfs, sysfs under `hostRoot`, which tests point at a fake tree).
 */
export async function sampleNodeMetrics(options: { dataDir: string; hostRoot: string }): Promise<NodeMetricsSample> {
  const [load, memory, disk, temperature] = await Promise.all([
    si.currentLoad(),
    si.mem(),
    statfs(options.dataDir),
    hottestZoneMillicelsius(options.hostRoot),
  ]);
  const cpuCount = load.cpus.length || os.availableParallelism();
  return {
    timestamp: new Date(),
    cpuUsageNanocores: Math.round((load.currentLoad / 100) * cpuCount * 1e9),
    memoryWorkingSetBytes: memory.total - memory.available,
    memoryTotalBytes: memory.total,
    filesystem: {
      path: options.dataDir,
      usedBytes: (disk.blocks - disk.bfree) * disk.bsize,
      capacityBytes: disk.blocks * disk.bsize,
    },
    temperatureMillicelsius: temperature,
  };
}

async function hottestZoneMillicelsius(hostRoot: string): Promise<number | null> {
  const dir = join(hostRoot, 'sys/class/thermal');
  const zones = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith('thermal_zone'));
  const readings = await Promise.all(zones.map((zone) => readFile(join(dir, zone, 'temp'), 'utf8').then((t) => Number(t.trim()), () => Number.NaN)));
  const valid = readings.filter((value) => Number.isFinite(value));
  return valid.length > 0 ? Math.max(...valid) : null;
}

/** metrics.k8s.io quantities: CPU in nanocores ("250000000n"), memory in Ki. */
export function toMetricsUsage(sample: NodeMetricsSample): { cpu: string; memory: string } {
  return { cpu: `${sample.cpuUsageNanocores}n`, memory: `${Math.floor(sample.memoryWorkingSetBytes / 1024)}Ki` };
}
