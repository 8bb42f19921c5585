// Synthetic Raspberry Pi OS card images for the firmware-scripts tests, built with the real tools
// (no hardware, no root mount): an MBR (sfdisk), a FAT32 `bootfs` (mkfs.vfat at an offset, files
// put in with mtools) holding cmdline.txt and config.txt, and an ext4 `rootfs` (mkfs.ext4 -d)
// whose /usr/bin/dash is an arm64 program. In cloud-init form (Trixie: cloud-init in the root,
// seed files on FAT) or firstrun form (Bookworm).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECTOR = 512;
export const BOOT_START = 8192; // sectors, as Raspberry Pi OS
export const BOOT_SECTORS = 327680; // 160 MiB (the real images have 512 MiB): room for the 100 MB single executable
export const ROOT_START = BOOT_START + BOOT_SECTORS;
export const ROOT_MIB = 48;
/** The FAT partition of an image, as mtools names it. */
export const bootAt = (image: string): string => `${image}@@${BOOT_START * SECTOR}`;
export const mtoolsEnv = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
export const CMDLINE = 'console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait quiet';

/** An ELF header only (64 bytes): a stand-in named as such, used when no real program of that CPU is at hand. */
export function fakeElfHeader(path: string, machine: number): string {
  const header = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
  header.writeUInt16LE(2, 16); // ET_EXEC
  header.writeUInt16LE(machine, 18);
  writeFileSync(path, header, { mode: 0o755 });
  return path;
}

export function runTool(command: string, args: string[], input?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', env: mtoolsEnv, stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

/** A Raspberry Pi OS card image in the given first-boot form, made in `work` as <name>.img. */
export function makeCard(work: string, name: string, form: 'cloud-init' | 'firstrun'): string {
  const dir = join(work, `${name}-src`);
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(root, 'boot', 'firmware'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'hostname'), 'raspberrypi\n');
  // The userland's CPU is read from /usr/bin/dash: Debian's arm64 busybox (test-host.sh caches it), else an arm64 ELF header.
  const busybox = '/var/cache/bramble-test/busybox/arm64/bin/busybox';
  if (existsSync(busybox)) copyFileSync(busybox, join(root, 'usr', 'bin', 'dash'));
  else fakeElfHeader(join(root, 'usr', 'bin', 'dash'), 183);
  const boot = join(dir, 'boot');
  mkdirSync(boot);
  writeFileSync(join(boot, 'cmdline.txt'), `${CMDLINE}\n`);
  writeFileSync(join(boot, 'config.txt'), '[all]\narm_64bit=1\ndtparam=audio=on\n');
  if (form === 'cloud-init') {
    writeFileSync(join(root, 'usr', 'bin', 'cloud-init'), '#!/usr/bin/python3\n', { mode: 0o755 });
    // Trixie images ship placeholder seed files on the boot partition.
    writeFileSync(join(boot, 'user-data'), '#cloud-config\n');
    writeFileSync(join(boot, 'meta-data'), 'instance-id: rpios-image\n');
    writeFileSync(join(boot, 'network-config'), 'network:\n  version: 2\n');
  }
  const image = join(work, `${name}.img`);
  execFileSync('truncate', ['-s', `${((ROOT_START * SECTOR) >> 20) + ROOT_MIB}M`, image]);
  runTool('sfdisk', ['-q', image], `label: dos\nstart=${BOOT_START}, size=${BOOT_SECTORS}, type=c\nstart=${ROOT_START}, type=83\n`);
  runTool('mkfs.vfat', ['-F', '32', '-s', '2', '-n', 'bootfs', '--offset', String(BOOT_START), image, String((BOOT_SECTORS * SECTOR) / 1024)]);
  runTool('mcopy', ['-i', bootAt(image), ...readdirSync(boot).map((file) => join(boot, file)), '::/']);
  runTool('mkfs.ext4', ['-q', '-L', 'rootfs', '-d', root, '-E', `offset=${ROOT_START * SECTOR}`, image, `${ROOT_MIB}M`]);
  return image;
}

/** The files on the FAT partition (paths like /bramble/env), read back with mtools. */
export function fatPaths(image: string): string[] {
  const listing = runTool('mdir', ['-/', '-b', '-a', '-i', bootAt(image), '::/']);
  return listing.split('\n').filter((line) => line.startsWith('::/') && !line.endsWith('/')).map((line) => line.slice(2));
}

export const fatText = (image: string, path: string): string => runTool('mtype', ['-i', bootAt(image), `::${path}`]);
