import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  gitCommit: string;
  nodeVersion: string;
  platform: string;
  arch: string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// A bundled binary gets its commit stamped at build time (BRAMBLE_GIT_COMMIT); a source checkout
// asks git, and anything else says so rather than guessing.
function gitCommit(): string {
  const stamped = process.env.BRAMBLE_GIT_COMMIT;
  if (stamped) return stamped;
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: packageRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: packageRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown';
  }
}

export function buildInfo(): BuildInfo {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    version: pkg.version,
    gitCommit: gitCommit(),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}
