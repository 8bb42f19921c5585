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

/** The checkout's commit as git says it, `-dirty` with uncommitted changes, `unknown` without git (the build stamps this too). */
export function checkoutGitCommit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: packageRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown';
  }
}

// The bundle carries its version and commit (stamp.ts, written by `npm run build`); a source
// checkout reads package.json and asks git, and anything else says so rather than guessing.
function gitCommit(): string {
  return stamp?.commit ?? (process.env.BRAMBLE_GIT_COMMIT || checkoutGitCommit());
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
