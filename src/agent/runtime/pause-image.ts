import { createHash } from 'node:crypto';
import { buildImageArchive, busyboxLayer, type ImageArchive, type ImagePlatform } from '../../image/index.ts';

/**
 * The pause container's program. A busybox shell as PID 1 instead of Kubernetes' C pause binary:
 * a static busybox for every Pi architecture is one Debian package away (busybox-static) and
 * needs no cross compiler, and this script does the pause's two jobs. PID 1 ignores signals it
 * has no handler for, so the trap is what lets SIGTERM stop the sandbox at once instead of after
 * the grace period; `wait` in ash reaps any exited child (waitpid(-1)), which covers orphans when
 * a pod shares its PID namespace. The sleep is backgrounded so the trap runs without delay.
 */
export const pauseScript = "trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done";

const elfMachines: Record<string, number> = { amd64: 62, arm64: 183, arm: 40 };

/**
 * Checks that the binary is a static ELF executable for the platform: the pause image has no
 * libc, so a dynamically linked busybox (Debian's `busybox` package, not `busybox-static`) would
 * fail inside it with a confusing "no such file or directory".
 */
export function checkStaticBusybox(binary: Uint8Array, platform: ImagePlatform, path: string): void {
  const bytes = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF executable`);
  const is64Bit = bytes[4] === 2;
  const machine = bytes.readUInt16LE(18);
  if (machine !== elfMachines[platform.architecture]) {
    throw new Error(`${path} is built for ELF machine ${machine}, not ${platform.architecture}: use the busybox-static package of this node's architecture`);
  }
  const programHeaderOffset = is64Bit ? Number(bytes.readBigUInt64LE(32)) : bytes.readUInt32LE(28);
  const entrySize = bytes.readUInt16LE(is64Bit ? 54 : 42);
  const count = bytes.readUInt16LE(is64Bit ? 56 : 44);
  const ptInterp = 3;
  for (let i = 0; i < count; i++) {
    const offset = programHeaderOffset + i * entrySize;
    if (offset + 4 <= bytes.length && bytes.readUInt32LE(offset) === ptInterp) {
      throw new Error(`${path} is dynamically linked; the pause image needs a static busybox: apt-get install busybox-static`);
    }
  }
}

/** The pause image's repository: a node's own sandboxes use it, pods never do. */
export const PAUSE_IMAGE_REPOSITORY = 'bramble/pause';

export interface PauseImage {
  archive: ImageArchive;
  /** e.g. "bramble/pause:arm64-3f2a9c1d": the content hash in the tag makes a changed image a new tag. */
  tag: string;
}

/** Builds the pause image for `platform` from a static busybox binary, offline. */
export async function buildPauseImage(
  busyboxBinary: Uint8Array,
  platform: ImagePlatform,
  binaryPath = 'busybox',
  extraLabels: Record<string, string> = {},
): Promise<PauseImage> {
  checkStaticBusybox(busyboxBinary, platform, binaryPath);
  const imageLabels = { 'io.bramble.role': 'pause', ...extraLabels };
  const contentHash = createHash('sha256').update(busyboxBinary).update(pauseScript).update(JSON.stringify(imageLabels)).digest('hex').slice(0, 12);
  const tag = `${PAUSE_IMAGE_REPOSITORY}:${platform.architecture}${platform.variant ?? ''}-${contentHash}`;
  const archive = await buildImageArchive({
    repoTags: [tag],
    platform,
    layer: busyboxLayer(busyboxBinary, ['bin/sh', 'bin/sleep']),
    entrypoint: ['/bin/sh', '-c', pauseScript],
    labels: imageLabels,
  });
  return { archive, tag };
}
