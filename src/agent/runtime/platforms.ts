import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImagePlatform } from '../../image/index.ts';
import type { ImageInfo } from './runtime.ts';

/** A platform this node can run: natively, or through a registered binfmt emulator (qemu-user). */
export interface RunnablePlatform {
  architecture: string;
  /** Variants this node runs for that architecture; empty means any. */
  variants: string[];
  emulated: boolean;
}

// qemu-user's binfmt entry names and the image architectures they run.
const emulatorArchitectures: Record<string, RunnablePlatform> = {
  'qemu-aarch64': { architecture: 'arm64', variants: [], emulated: true },
  'qemu-arm': { architecture: 'arm', variants: ['v6', 'v7'], emulated: true },
  'qemu-x86_64': { architecture: 'amd64', variants: [], emulated: true },
};

/**
 * What the node runs natively. A 64-bit Pi usually also executes 32-bit arm images (the Cortex-A
 * cores keep AArch32 at user level), which Raspberry Pi OS relies on for its 32-bit userland.
 */
function nativePlatforms(native: ImagePlatform): RunnablePlatform[] {
  switch (native.architecture) {
    case 'arm64':
      return [
        { architecture: 'arm64', variants: [], emulated: false },
        { architecture: 'arm', variants: ['v6', 'v7'], emulated: false },
      ];
    case 'arm':
      // An armv7 CPU runs armv6 code; an armv6 one (Pi Zero, Pi 1) does not run armv7 code.
      return [{ architecture: 'arm', variants: native.variant === 'v6' ? ['v6'] : ['v6', 'v7'], emulated: false }];
    default:
      return [{ architecture: native.architecture, variants: [], emulated: false }];
  }
}

/**
 * The platforms this node can run: its own plus those with an enabled binfmt_misc emulator in
 * `binfmtMiscDir` (the kernel's /proc/sys/fs/binfmt_misc; a test passes a fake directory).
 */
export function detectRunnablePlatforms(native: ImagePlatform, binfmtMiscDir = '/proc/sys/fs/binfmt_misc'): RunnablePlatform[] {
  const platforms = nativePlatforms(native);
  let entries: string[] = [];
  try {
    entries = readdirSync(binfmtMiscDir);
  } catch {
    return platforms; // binfmt_misc not mounted: nothing is emulated
  }
  for (const entry of entries) {
    const emulated = emulatorArchitectures[entry];
    if (!emulated || platforms.some((p) => p.architecture === emulated.architecture)) continue;
    let content = '';
    try {
      content = readFileSync(join(binfmtMiscDir, entry), 'utf8');
    } catch {
      continue;
    }
    if (content.split('\n')[0]?.trim() === 'enabled') platforms.push(emulated);
  }
  return platforms;
}

export function platformRunnable(image: ImageInfo['platform'], runnable: RunnablePlatform[]): RunnablePlatform | null {
  if (image.os !== 'linux') return null;
  const variant = image.variant ?? (image.architecture === 'arm64' ? 'v8' : image.architecture === 'arm' ? 'v7' : '');
  return (
    runnable.find((p) => p.architecture === image.architecture && (p.variants.length === 0 || p.variants.includes(variant))) ?? null
  );
}

export function describePlatforms(runnable: RunnablePlatform[]): string {
  return runnable
    .map((p) => `linux/${p.architecture}${p.variants.length ? `/${p.variants.join('|')}` : ''}${p.emulated ? ' (emulated)' : ''}`)
    .join(', ');
}
