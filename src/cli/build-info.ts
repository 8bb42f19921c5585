import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSingleExecutable } from './sea/executable.ts';
import { stamp } from './sea/stamp.ts';

export interface BuildInfo {
  version: string;
  gitCommit: string;
  nodeVersion: string;
  platform: string;
  arch: string;
  /** True when this is the single executable (`npm run build`), false when run from a checkout. */
  singleExecutable: boolean;
}

/** The checkout's root; only asked outside the bundle, where import.meta.url is a real file. */
function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

// The bundle carries its version and commit (stamp.ts, written by `npm run build`); a source
// checkout reads package.json and asks git, and anything else says so rather than guessing.
function gitCommit(): string {
  if (stamp) return stamp.commit;
  const stamped = process.env.BRAMBLE_GIT_COMMIT;
  if (stamped) return stamped;
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: packageRoot(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: packageRoot(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown';
  }
}

export function buildInfo(): BuildInfo {
  const version = stamp?.version ?? (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return {
    version,
    gitCommit: gitCommit(),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    singleExecutable: isSingleExecutable(),
  };
}
