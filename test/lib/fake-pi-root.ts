// A fake host root with the files a Raspberry Pi 4 exposes (device tree, firmware throttled flags,
// thermal zone, /proc files): a real Pi's sysfs cannot exist on the test machine, so the agent reads
// its node facts, conditions and health from this tree (AgentOptions.hostRoot).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';

const roots: string[] = [];

/** Removes every root made by fakePiHostRoot in this process (call it from an after hook). */
export async function removeFakePiHostRoots(): Promise<void> {
  for (const dir of roots.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A fresh fake Pi root; `overrides` replaces a file's content, null leaves it out. */
export async function fakePiHostRoot(overrides: Record<string, string | null> = {}): Promise<string> {
  const root = await mkdtemp(join(os.tmpdir(), 'bramble-fake-pi-root-'));
  roots.push(root);
  const files: Record<string, string | null> = {
    'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.4\0',
    'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
    'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
    'proc/sys/kernel/random/boot_id': '11111111-2222-3333-4444-555555555555\n',
    'proc/meminfo': 'MemTotal:        3884096 kB\nMemFree:         2000000 kB\nMemAvailable:    3000000 kB\n',
    'proc/cgroups': '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t80\t1\ncpu\t0\t80\t1\nmemory\t0\t80\t1\npids\t0\t80\t1\n',
    'proc/loadavg': '0.52 0.40 0.31 2/215 4242\n',
    'proc/sys/kernel/pid_max': '4194304\n',
    'sys/class/thermal/thermal_zone0/type': 'cpu-thermal\n',
    'sys/class/thermal/thermal_zone0/temp': '45277\n',
    'sys/devices/platform/soc/soc:firmware/get_throttled': '0\n',
    ...overrides,
  };
  for (const [path, content] of Object.entries(files)) {
    if (content === null) continue;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}
