// Native addons inside the single executable: `npm run build` embeds each one's bytes for the
// target platform as an SEA asset (`<name>.node`) and records their sha256 in the bundle (stamp.ts).
// Node can only dlopen a file, so on first use the bytes are written once to a content-addressed
// file in a private cache directory (addonCacheDir) and loaded from there; later starts, and other
// nodes on the same machine, find the file already there and only check its digest.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { stamp } from './stamp.ts';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Where extracted addons live: $BRAMBLE_CACHE_DIR, else $XDG_CACHE_HOME/bramble (an absolute one,
 * as the XDG spec asks), else /var/cache/bramble for root (a board's systemd unit), else
 * ~/.cache/bramble. Not the data dir: `bramble` commands without one load the store too.
 */
export function addonCacheDir(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1, home: string = homedir()): string {
  if (env.BRAMBLE_CACHE_DIR) return resolve(env.BRAMBLE_CACHE_DIR);
  if (env.XDG_CACHE_HOME?.startsWith('/')) return join(env.XDG_CACHE_HOME, 'bramble');
  if (uid === 0) return '/var/cache/bramble';
  return join(home, '.cache', 'bramble');
}

/**
 * Makes `dir` (mode 0700) if missing. A library is loaded from it, so a directory this user does
 * not own, or that others may write to, is refused rather than trusted.
 */
export function ensurePrivateDir(dir: string, uid: number = process.getuid?.() ?? -1): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new Error(`the native addon cache ${dir} is not a directory (set BRAMBLE_CACHE_DIR to another place)`);
  if (uid >= 0 && stat.uid !== uid) throw new Error(`the native addon cache ${dir} belongs to uid ${stat.uid}, not to this user (${uid}); set BRAMBLE_CACHE_DIR to a directory of your own`);
  if ((stat.mode & 0o022) !== 0) throw new Error(`the native addon cache ${dir} is writable by group or others (mode ${(stat.mode & 0o777).toString(8)}); chmod go-w it or set BRAMBLE_CACHE_DIR`);
}

/**
 * `<dir>/<name>-<digest>.node` holding exactly `bytes`: kept when its content has the digest,
 * else written to a temporary name and renamed over it, so a reader never sees half a file even
 * when several processes start at once.
 */
export function addonFile(dir: string, name: string, bytes: Uint8Array, digest: string): string {
  const path = join(dir, `${name}-${digest}.node`);
  try {
    if (sha256(readFileSync(path)) === digest) return path;
  } catch {
    // Missing or unreadable: written below.
  }
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o500);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
  return path;
}

/** The embedded bytes of addon `name` and their expected digest; throws when this executable has none or they do not match. */
export function embeddedAddonBytes(name: string): { bytes: Buffer; digest: string } {
  const target = `${process.platform}-${process.arch}`;
  const digest = stamp?.addons[target]?.[name];
  if (!isSea() || digest === undefined) {
    throw new Error(`the native addon ${name} is not embedded here: run the bramble executable built for ${target} (npm run build), or bramble from a checkout`);
  }
  const bytes = Buffer.from(getAsset(`${name}.node`));
  const actual = sha256(bytes);
  if (actual !== digest) throw new Error(`this bramble executable is damaged: its ${name} addon has sha256 ${actual}, the build recorded ${digest}; copy the executable again`);
  return { bytes, digest };
}

/** Loads the embedded addon `name` (process.dlopen of its cached file) and returns its exports. */
export function loadEmbeddedAddon(name: string): object {
  const { bytes, digest } = embeddedAddonBytes(name);
  const dir = addonCacheDir();
  ensurePrivateDir(dir);
  const module = { exports: {} };
  process.dlopen(module, addonFile(dir, name, bytes, digest));
  return module.exports;
}

/**
 * The addon's exports, loaded on first property access: requiring the store's module (which every
 * command does) then writes nothing; only a command that opens LevelDB extracts the addon.
 */
export function lazyEmbeddedAddon(name: string): object {
  let exports: Record<string | symbol, unknown> | undefined;
  return new Proxy({}, {
    get(_target, key) {
      exports ??= loadEmbeddedAddon(name) as Record<string | symbol, unknown>;
      return exports[key];
    },
  });
}
