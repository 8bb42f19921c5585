// One executable per target: Node's single-executable-application blob (the bundle as main
// script, the target's addons as assets), made by a Node of the pinned version, injected with
// postject into a copy of the target's Node binary. postject runs here, on the build host, for
// every target (run inside an arm64 container it corrupts `.gnu.hash` and addons fail to load).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The fuse Node 20 looks for to know it carries a blob (node's src/node_sea.cc). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

interface Postject {
  inject(file: string, resource: string, data: Buffer, options: { sentinelFuse: string; overwrite?: boolean }): Promise<void>;
}
/** Loaded when an executable is made, so the rest of this module (and its tests) need no postject. */
const postject = (): Postject => createRequire(import.meta.url)('postject') as Postject;

/** Node's sea-config.json (https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html). */
export interface SeaConfig {
  main: string;
  output: string;
  disableExperimentalSEAWarning: boolean;
  useSnapshot: boolean;
  useCodeCache: boolean;
  assets: Record<string, string>;
}

/** The loader as main script; the bundle and the target's addons as assets. */
export function seaConfig(loader: string, bundle: string, blob: string, addons: Record<string, string>): SeaConfig {
  return {
    main: loader,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    // The code cache would cover the loader only (the bundle is an asset), and the main script is
    // patched after injection (patchSize), which a cache made before would not see.
    useCodeCache: false,
    assets: { 'bramble.js': bundle, ...Object.fromEntries(Object.entries(addons).map(([name, path]) => [`${name}.node`, path])) },
  };
}

/**
 * Writes the file's own size (16 digits) after `marker`, which must occur exactly once in it (the
 * loader's BRAMBLE_EXECUTABLE_SIZE). Same length in, same length out: the size stays true.
 */
export function patchSize(file: string, marker: string): number {
  const bytes = readFileSync(file);
  const needle = Buffer.from(marker);
  const at = bytes.indexOf(needle);
  if (at < 0 || bytes.indexOf(needle, at + 1) >= 0) throw new Error(`${file} holds the size marker ${at < 0 ? 'nowhere' : 'more than once'}`);
  const digits = String(bytes.length).padStart(16, '0');
  if (bytes.subarray(at + needle.length, at + needle.length + 16).toString('latin1') !== '0'.repeat(16)) throw new Error(`${file}: the size marker is not followed by 16 zeros`);
  bytes.write(digits, at + needle.length, 'latin1');
  writeFileSync(file, bytes);
  return bytes.length;
}

/**
 * Writes `output`: `targetNode` with the blob injected, its size patched in (`sizeMarker`).
 * `blobNode` (a Node of the same version that runs here) makes the blob; `workDir` holds the
 * config and the blob.
 */
export async function makeExecutable(options: { config: SeaConfig; blobNode: string; targetNode: string; output: string; workDir: string; sizeMarker: string }): Promise<void> {
  const configFile = join(options.workDir, `${options.output.split('/').pop()}.sea-config.json`);
  writeFileSync(configFile, JSON.stringify(options.config, null, 2));
  execFileSync(options.blobNode, ['--experimental-sea-config', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(options.output, { force: true });
  copyFileSync(options.targetNode, options.output);
  chmodSync(options.output, 0o755);
  await postject().inject(options.output, 'NODE_SEA_BLOB', readFileSync(options.config.output), { sentinelFuse: SEA_FUSE });
  patchSize(options.output, options.sizeMarker);
}
