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
const postject = createRequire(import.meta.url)('postject') as Postject;

/** Node's sea-config.json (https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html). */
export interface SeaConfig {
  main: string;
  output: string;
  disableExperimentalSEAWarning: boolean;
  useSnapshot: boolean;
  useCodeCache: boolean;
  assets: Record<string, string>;
}

export function seaConfig(mainScript: string, blob: string, addons: Record<string, string>, useCodeCache: boolean): SeaConfig {
  return {
    main: mainScript,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    // V8's code cache is made by the Node that writes the blob and only fits its own CPU
    // architecture: on for the build host's own platform, off for the others.
    useCodeCache,
    assets: Object.fromEntries(Object.entries(addons).map(([name, path]) => [`${name}.node`, path])),
  };
}

/**
 * Writes `output`: `targetNode` with the blob injected. `blobNode` (a Node of the same version that
 * runs here) makes the blob; `workDir` holds the config and the blob.
 */
export async function makeExecutable(options: { config: SeaConfig; blobNode: string; targetNode: string; output: string; workDir: string }): Promise<void> {
  const configFile = join(options.workDir, `${options.output.split('/').pop()}.sea-config.json`);
  writeFileSync(configFile, JSON.stringify(options.config, null, 2));
  execFileSync(options.blobNode, ['--experimental-sea-config', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(options.output, { force: true });
  copyFileSync(options.targetNode, options.output);
  chmodSync(options.output, 0o755);
  await postject.inject(options.output, 'NODE_SEA_BLOB', readFileSync(options.config.output), { sentinelFuse: SEA_FUSE });
}
