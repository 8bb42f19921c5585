// The single executables of `npm run build` (dist/bramble-<platform>-<arch>) for tests and
// benchmarks: built when missing or older than any file they are made from, else reused.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const projectDir = resolve(import.meta.dirname, '..', '..');

/** The newest modification time (ms) of the files the build reads, dependencies' lock included. */
function newestInput(): number {
  let newest = 0;
  const visit = (path: string): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const input of ['src', 'scripts/build', 'scripts/build.ts', 'package.json', 'package-lock.json']) visit(join(projectDir, input));
  return newest;
}

/**
 * dist/bramble-<target>, built first (`npm run build -- <target>`, up to 10 minutes on a busy
 * machine) unless it is newer than every input. Returns its path.
 */
export async function freshExecutable(target = `${process.platform}-${process.arch}`): Promise<string> {
  const executable = join(projectDir, 'dist', `bramble-${target}`);
  if (existsSync(executable) && statSync(executable).mtimeMs > newestInput()) return executable;
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(projectDir, 'scripts', 'build.ts'), target], { cwd: projectDir, timeout: 600_000 });
  return executable;
}

/**
 * An environment for the executable without any way to node_modules or tsx: no NODE_OPTIONS or
 * NODE_PATH, and PATH without node_modules/.bin (npm run puts it there).
 */
export function bareEnv(extra: Record<string, string> = {}): Record<string, string> {
  const path = (process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules')).join(':');
  return { PATH: path, NODE_OPTIONS: '', NODE_PATH: '', ...extra };
}
