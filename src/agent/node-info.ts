import { readdir, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { NodeLabels } from '../client/index.ts';
import { type ImagePlatform, platformOfNodeArch } from '../image/index.ts';
import type { RuntimeVersion } from './runtime/runtime.ts';

/** The platform of the CPU this agent runs on (32-bit arm: v6 or v7 from Node's build config). */
export function processPlatform(): ImagePlatform {
  const variables = (process.config as { variables?: { arm_version?: string | number } }).variables;
  return platformOfNodeArch(process.arch, variables?.arm_version === undefined ? undefined : String(variables.arm_version));
}

/**
 * Facts about the node the agent registers as its Node object, read from a host root ("/" on a
 * board; a test passes a fake tree with Pi-like files, since a Pi's firmware and sensors cannot
 * exist here).
 */
export interface NodeFactsOptions {
  nodeName: string;
  /** "/" on a real node. Files read: proc/device-tree/model, proc/meminfo, proc/cgroups, proc/loadavg, proc/sys/kernel/{pid_max,random/boot_id}, sys/class/thermal, sys/devices/platform/soc/soc:firmware/get_throttled, etc/os-release, etc/machine-id. */
  hostRoot: string;
  runtime: RuntimeVersion;
  /**
   * The node's platform, labelled as kubernetes.io/arch: the agent's own CPU by default (on a board
   * the engine's is the same; the engine's is in runtime.platform).
   */
  nodePlatform?: ImagePlatform;
  /** Kubernetes' default is 110; a Pi Zero deserves fewer. */
  maxPods: number;
  /** Kept back from allocatable for the OS and Bramble itself. */
  reservedMemoryBytes: number;
  /** CPU count and total memory; default from node:os (the real host). */
  cpuCount?: number;
  memoryTotalBytes?: number;
}

export interface NodeFacts {
  capacity: { cpu: string; memory: string; pods: string };
  allocatable: { cpu: string; memory: string; pods: string };
  nodeInfo: {
    architecture: string;
    operatingSystem: 'linux';
    osImage: string;
    kernelVersion: string;
    containerRuntimeVersion: string;
    kubeletVersion: string;
    machineID: string;
    bootID: string;
    systemUUID: string;
  };
  labels: Record<string, string>;
  /** e.g. "Raspberry Pi 4 Model B Rev 1.4", or null off a Pi (no device tree model). */
  boardModel: string | null;
}

/** The version the agent reports as nodeInfo.kubeletVersion (kubectl shows it in VERSION). */
export const agentVersion = 'v1.32.0-bramble';

async function readText(hostRoot: string, path: string): Promise<string | null> {
  try {
    return await readFile(join(hostRoot, path), 'utf8');
  } catch {
    return null;
  }
}

function osImageOf(osRelease: string | null): string {
  const pretty = osRelease?.split('\n').find((line) => line.startsWith('PRETTY_NAME='));
  return pretty ? pretty.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '') : 'Linux';
}

function kibibytes(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export async function readNodeFacts(options: NodeFactsOptions): Promise<NodeFacts> {
  const [model, osRelease, machineId, bootId] = await Promise.all([
    readText(options.hostRoot, 'proc/device-tree/model'),
    readText(options.hostRoot, 'etc/os-release'),
    readText(options.hostRoot, 'etc/machine-id'),
    readText(options.hostRoot, 'proc/sys/kernel/random/boot_id'),
  ]);
  const cpuCount = options.cpuCount ?? os.availableParallelism();
  const memoryTotalBytes = options.memoryTotalBytes ?? os.totalmem();
  const allocatableMemoryBytes = Math.max(0, memoryTotalBytes - options.reservedMemoryBytes);
  const platform = options.nodePlatform ?? processPlatform();
  const architecture = platform.architecture;
  // The device tree's model string ends with a NUL byte.
  const boardModel = model ? model.replace(/\0+$/, '').trim() || null : null;
  return {
    capacity: { cpu: String(cpuCount), memory: kibibytes(memoryTotalBytes), pods: String(options.maxPods) },
    allocatable: { cpu: String(cpuCount), memory: kibibytes(allocatableMemoryBytes), pods: String(options.maxPods) },
    nodeInfo: {
      architecture,
      operatingSystem: 'linux',
      osImage: osImageOf(osRelease),
      kernelVersion: os.release(),
      containerRuntimeVersion: `${options.runtime.runtimeName}://${options.runtime.runtimeVersion}`,
      kubeletVersion: agentVersion,
      machineID: machineId?.trim() ?? '',
      bootID: bootId?.trim() ?? '',
      systemUUID: machineId?.trim() ?? '',
    },
    labels: {
      'kubernetes.io/arch': architecture,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': options.nodeName,
      ...(platform.variant ? { [NodeLabels.archVariant]: platform.variant } : {}),
      ...(boardModel ? { [NodeLabels.board]: boardModel.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-|-$/g, '').slice(0, 63) } : {}),
    },
    boardModel,
  };
}

export interface NodeCondition {
  /** Kubernetes' Ready, MemoryPressure, DiskPressure, PIDPressure, and Bramble's Pi conditions: MemoryCgroupMissing, ThermalThrottling, UnderVoltage. */
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface ConditionThresholds {
  /** MemoryPressure when MemAvailable falls below this (kubelet's default eviction threshold is 100Mi). */
  memoryAvailableMinBytes: number;
  /** DiskPressure when the data directory's filesystem has less free than this fraction (kubelet: 10%). */
  diskFreeMinFraction: number;
  /** PIDPressure when processes exceed this fraction of pid_max. */
  pidUsedMaxFraction: number;
  /** ThermalThrottling when any thermal zone reaches this; the Pi firmware soft-limits at 80 °C. */
  temperatureMaxMillicelsius: number;
}

export const defaultThresholds: ConditionThresholds = {
  memoryAvailableMinBytes: 100 * 1024 * 1024,
  diskFreeMinFraction: 0.1,
  pidUsedMaxFraction: 0.9,
  temperatureMaxMillicelsius: 80_000,
};

function condition(type: string, active: boolean, reasons: [string, string], messages: [string, string]): NodeCondition {
  return { type, status: active ? 'True' : 'False', reason: active ? reasons[0] : reasons[1], message: active ? messages[0] : messages[1] };
}

function unknown(type: string, reason: string, message: string): NodeCondition {
  return { type, status: 'Unknown', reason, message };
}

async function memoryCondition(hostRoot: string, thresholds: ConditionThresholds): Promise<NodeCondition> {
  const meminfo = await readText(hostRoot, 'proc/meminfo');
  const match = meminfo?.match(/^MemAvailable:\s+(\d+) kB/m);
  if (!match) return unknown('MemoryPressure', 'MemInfoUnreadable', 'cannot read MemAvailable from /proc/meminfo');
  const availableBytes = Number(match[1]) * 1024;
  const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
  return condition(
    'MemoryPressure',
    availableBytes < thresholds.memoryAvailableMinBytes,
    ['NodeHasInsufficientMemory', 'NodeHasSufficientMemory'],
    [`only ${mib(availableBytes)} available (threshold ${mib(thresholds.memoryAvailableMinBytes)}): pods may be evicted; remove pods or add boards`, `${mib(availableBytes)} available`],
  );
}

async function diskCondition(dataDir: string, thresholds: ConditionThresholds): Promise<NodeCondition> {
  try {
    const stats = await statfs(dataDir);
    const freeFraction = stats.blocks > 0 ? stats.bavail / stats.blocks : 1;
    const percent = `${(freeFraction * 100).toFixed(1)}%`;
    return condition(
      'DiskPressure',
      freeFraction < thresholds.diskFreeMinFraction,
      ['NodeHasDiskPressure', 'NodeHasNoDiskPressure'],
      [`${percent} free on the filesystem of ${dataDir}: free space on the SD card (docker image prune, old logs)`, `${percent} free on the filesystem of ${dataDir}`],
    );
  } catch (error) {
    return unknown('DiskPressure', 'StatfsFailed', `cannot stat ${dataDir}: ${(error as Error).message}`);
  }
}

async function pidCondition(hostRoot: string, thresholds: ConditionThresholds): Promise<NodeCondition> {
  const [loadavg, pidMax] = await Promise.all([readText(hostRoot, 'proc/loadavg'), readText(hostRoot, 'proc/sys/kernel/pid_max')]);
  // /proc/loadavg's fourth field is "running/total" scheduling entities.
  const total = Number(loadavg?.split(' ')[3]?.split('/')[1]);
  const max = Number(pidMax?.trim());
  if (!Number.isFinite(total) || !Number.isFinite(max) || max <= 0) return unknown('PIDPressure', 'ProcUnreadable', 'cannot read /proc/loadavg or pid_max');
  return condition(
    'PIDPressure',
    total / max > thresholds.pidUsedMaxFraction,
    ['NodeHasInsufficientPID', 'NodeHasSufficientPID'],
    [`${total} of ${max} process ids in use`, `${total} of ${max} process ids in use`],
  );
}

/**
 * Raspberry Pi OS kernels without `cgroup_enable=memory` have the memory controller disabled: the
 * engine then ignores memory limits. /proc/cgroups lists it with enabled=0, or not at all.
 */
async function memoryCgroupCondition(hostRoot: string): Promise<NodeCondition> {
  const cgroups = await readText(hostRoot, 'proc/cgroups');
  if (cgroups === null) return unknown('MemoryCgroupMissing', 'CgroupsUnreadable', 'cannot read /proc/cgroups');
  const memory = cgroups.split('\n').find((line) => line.split(/\s+/)[0] === 'memory');
  const enabled = memory?.trim().split(/\s+/)[3] === '1';
  return condition(
    'MemoryCgroupMissing',
    !enabled,
    ['MemoryCgroupDisabled', 'MemoryCgroupEnabled'],
    [
      'the kernel\'s memory cgroup is disabled, so memory limits are not enforced: add "cgroup_enable=memory cgroup_memory=1" to the single line of /boot/firmware/cmdline.txt (/boot/cmdline.txt on older Raspberry Pi OS) and reboot',
      'memory limits are enforced',
    ],
  );
}

/** The hottest thermal zone, or null without sensors (a VM, a container). */
async function hottestZone(hostRoot: string): Promise<{ zone: string; millicelsius: number } | null> {
  const zones = await readdir(join(hostRoot, 'sys/class/thermal')).catch(() => [] as string[]);
  let hottest: { zone: string; millicelsius: number } | null = null;
  for (const zone of zones.filter((name) => name.startsWith('thermal_zone')).sort()) {
    const millicelsius = Number((await readText(hostRoot, `sys/class/thermal/${zone}/temp`))?.trim());
    if (Number.isFinite(millicelsius) && (!hottest || millicelsius > hottest.millicelsius)) hottest = { zone, millicelsius };
  }
  return hottest;
}

/** get_throttled bits 2 and 3: the firmware is throttling the CPU, or holding it at the soft temperature limit, now. */
const THROTTLED_NOW = 0x4 | 0x8;

async function thermalCondition(hostRoot: string, thresholds: ConditionThresholds, throttledFlags: number | null): Promise<NodeCondition | null> {
  const hottest = await hottestZone(hostRoot);
  const hot = hottest !== null && hottest.millicelsius >= thresholds.temperatureMaxMillicelsius;
  // The firmware's own word wins over our threshold: it throttles below 80 °C on a weak supply.
  if (!hot && throttledFlags !== null && (throttledFlags & THROTTLED_NOW) !== 0) {
    const cause = (throttledFlags & 0x1) !== 0 ? 'under-voltage: use the official power supply and a short cable' : 'heat: add a heatsink or fan, or move pods away';
    const where = hottest ? `, ${hottest.zone} at ${(hottest.millicelsius / 1000).toFixed(1)} °C` : '';
    return { type: 'ThermalThrottling', status: 'True', reason: 'FirmwareThrottling', message: `the firmware is throttling the CPU now (flags 0x${throttledFlags.toString(16)}${where}); likely cause ${cause}` };
  }
  if (!hottest) return null; // no sensors (a VM, a container): no condition rather than a guess
  const celsius = (hottest.millicelsius / 1000).toFixed(1);
  return condition(
    'ThermalThrottling',
    hottest.millicelsius >= thresholds.temperatureMaxMillicelsius,
    ['TemperatureHigh', 'TemperatureNormal'],
    [`${hottest.zone} at ${celsius} °C (limit ${thresholds.temperatureMaxMillicelsius / 1000} °C): the CPU slows down; add a heatsink or fan, or move pods away`, `${hottest.zone} at ${celsius} °C`],
  );
}

/**
 * The Pi firmware's throttled flags (what `vcgencmd get_throttled` prints), exposed by Raspberry Pi
 * kernels at sys/devices/platform/soc/soc:firmware/get_throttled. Bit 0: under-voltage now; bits
 * 1-3: frequency capped, throttled, soft temperature limit now; bits 16-19: the same since boot.
 */
async function readThrottled(hostRoot: string): Promise<{ raw: string; flags: number | null } | null> {
  const raw = await readText(hostRoot, 'sys/devices/platform/soc/soc:firmware/get_throttled');
  if (raw === null) return null;
  const flags = /^(0x)?[0-9a-f]+$/i.test(raw.trim()) ? Number.parseInt(raw.trim(), 16) : Number.NaN;
  return { raw, flags: Number.isFinite(flags) ? flags : null };
}

function underVoltageConditions(throttled: { raw: string; flags: number | null } | null): NodeCondition | null {
  if (throttled === null) return null;
  const { raw, flags } = throttled;
  if (flags === null) return unknown('UnderVoltage', 'ThrottledFlagsUnreadable', `unexpected get_throttled value "${raw.trim()}"`);
  const now = (flags & 0x1) !== 0;
  const sinceBoot = (flags & 0x10000) !== 0;
  return condition(
    'UnderVoltage',
    now,
    ['UnderVoltageDetected', sinceBoot ? 'UnderVoltageOccurred' : 'PowerSupplyOk'],
    [
      `the firmware reports under-voltage now (flags 0x${flags.toString(16)}): use the official 5V/3A (Pi 4) or 5V/5A (Pi 5) supply and a short cable`,
      sinceBoot ? `under-voltage happened since boot (flags 0x${flags.toString(16)}) but not now: check the power supply` : 'power supply ok',
    ],
  );
}

export interface ConditionInputs {
  hostRoot: string;
  /** The filesystem holding Bramble's data and the engine's images. */
  dataDir: string;
  /** Whether the container runtime answered its last call; Ready depends on it. */
  runtimeReachable: boolean;
  thresholds?: ConditionThresholds;
}

/** All node conditions, read now; the caller writes them only when one changes. */
export async function readNodeConditions(inputs: ConditionInputs): Promise<NodeCondition[]> {
  const thresholds = inputs.thresholds ?? defaultThresholds;
  const throttled = await readThrottled(inputs.hostRoot);
  const [memory, disk, pid, cgroup, thermal] = await Promise.all([
    memoryCondition(inputs.hostRoot, thresholds),
    diskCondition(inputs.dataDir, thresholds),
    pidCondition(inputs.hostRoot, thresholds),
    memoryCgroupCondition(inputs.hostRoot),
    thermalCondition(inputs.hostRoot, thresholds, throttled?.flags ?? null),
  ]);
  const power = underVoltageConditions(throttled);
  const ready: NodeCondition = inputs.runtimeReachable
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bramble agent is posting ready status' }
    : { type: 'Ready', status: 'False', reason: 'ContainerRuntimeUnreachable', message: 'the Docker engine does not answer: check that dockerd runs (systemctl status docker)' };
  return [ready, memory, disk, pid, cgroup, ...(thermal ? [thermal] : []), ...(power ? [power] : [])];
}

/** The measured inputs of the scheduler's node-health score (published coarsely, see node-health.ts). */
export interface NodeHealthReading {
  /** The hottest thermal zone; null without sensors. */
  temperatureMillicelsius: number | null;
  /** The 5-minute load average divided by the CPU count; null when /proc/loadavg is unreadable. */
  loadPerCpu: number | null;
}

/**
 * Reads temperature and load now. The 5-minute load average, not the 1-minute one: it is what a
 * placement should follow (a pod runs for minutes), and it moves slowly, so its coarse bucket
 * rarely changes. On Linux it counts tasks waiting on I/O too, which on an SD card is real load.
 */
export async function readNodeHealth(hostRoot: string, cpuCount: number): Promise<NodeHealthReading> {
  const [hottest, loadavg] = await Promise.all([hottestZone(hostRoot), readText(hostRoot, 'proc/loadavg')]);
  const fiveMinutes = Number(loadavg?.split(' ')[1]);
  return {
    temperatureMillicelsius: hottest?.millicelsius ?? null,
    loadPerCpu: loadavg !== null && Number.isFinite(fiveMinutes) && fiveMinutes >= 0 && cpuCount > 0 ? fiveMinutes / cpuCount : null,
  };
}
