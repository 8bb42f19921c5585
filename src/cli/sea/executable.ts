// The single executable's own checks (`npm run build` makes it; src/cli/binary.ts is its entry).
import { isSea } from 'node:sea';
import { embeddedAddonBytes } from './native-addons.ts';
import { stamp } from './stamp.ts';

/** True when this process is the single executable (Node's SEA), false from a checkout. */
export function isSingleExecutable(): boolean {
  return isSea();
}

/**
 * Why this executable must not run, or undefined when it is whole: the bundle must run on the Node
 * it was built for, and every embedded addon must have the digest the build recorded. Runs before
 * any command, so a damaged copy writes nothing anywhere.
 */
export function executableProblem(): string | undefined {
  if (stamp === undefined || !isSea()) return undefined;
  if (process.version !== stamp.nodeVersion) return `this bramble bundle was built for Node ${stamp.nodeVersion} and runs on ${process.version}; use the executable npm run build made`;
  const target = `${process.platform}-${process.arch}`;
  const addons = stamp.addons[target];
  if (addons === undefined) return `this bramble executable holds no native addons for ${target}; it was built for ${Object.keys(stamp.addons).join(', ')}`;
  for (const name of Object.keys(addons)) {
    try {
      embeddedAddonBytes(name);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}
