// `npm run build`: dist/bramble-<platform>-<arch> for every target of scripts/build/targets.ts,
// each a single executable that needs only the kernel, glibc and Docker, and dist/SHA256SUMS.
// Offline once the target Node binaries are cached (BRAMBLE_BUILD_CACHE, default
// /var/cache/bramble-build). `npm run build -- linux-x64` builds only the targets named.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkoutGitCommit } from '../src/cli/build-info.ts';
import { bundle, EXCLUDED_NATIVE, loader, type Stamp } from './build/bundle.ts';
import { makeExecutable, seaConfig } from './build/sea.ts';
import { buildCacheDir, NODE_VERSION, sha256File, TARGETS, targetNode } from './build/targets.ts';

const projectDir = resolve(import.meta.dirname, '..');
const distDir = join(projectDir, 'dist');
const log = (line: string) => process.stdout.write(`build: ${line}\n`);

async function main(requested: string[]): Promise<void> {
  const started = performance.now();
  const unknown = requested.filter((name) => !TARGETS.some((target) => target.name === name));
  if (unknown.length > 0) throw new Error(`unknown targets ${unknown.join(', ')}; known: ${TARGETS.map((target) => target.name).join(', ')}`);
  const targets = requested.length > 0 ? TARGETS.filter((target) => requested.includes(target.name)) : TARGETS;

  const addons = Object.fromEntries(
    TARGETS.map((target) => [target.name, Object.fromEntries(Object.entries(target.addons).map(([name, path]) => [name, sha256File(join(projectDir, path))]))]),
  );
  const stamp: Stamp = {
    version: (JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { version: string }).version,
    commit: checkoutGitCommit(),
    nodeVersion: NODE_VERSION,
    addons,
  };
  const { code, workerBytes } = await bundle(projectDir, stamp);
  const workDir = join(distDir, '.work');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const bundleFile = join(workDir, 'bramble.cjs');
  writeFileSync(bundleFile, code);
  // The marker names this bundle, so the only copy of it in an executable is the loader's (patchSize
  // checks), and the same sources build the same bytes.
  const bundleSha256 = createHash('sha256').update(code).digest('hex');
  const sizeMarker = `bramble-executable-size-${bundleSha256.slice(0, 16)}:`;
  const loaderFile = join(workDir, 'loader.cjs');
  writeFileSync(loaderFile, await loader(projectDir, bundleSha256, sizeMarker));
  log(`bundled ${stamp.version} (${stamp.commit}): ${(code.length / 1e6).toFixed(1)} MB of JavaScript, the YAML worker ${(workerBytes / 1e3).toFixed(0)} kB of it`);
  for (const [name, reason] of Object.entries(EXCLUDED_NATIVE)) log(`left out ${name}: ${reason}`);

  const cacheDir = buildCacheDir();
  const host = `${process.platform}-${process.arch}`;
  const hostTarget = TARGETS.find((target) => target.name === host);
  if (!hostTarget) throw new Error(`the build runs on ${host}, which has no target here (the blobs are made by the pinned Node of this platform)`);
  const blobNode = targetNode(hostTarget, cacheDir, log);
  for (const target of targets) {
    const output = join(distDir, `bramble-${target.name}`);
    const addonFiles = Object.fromEntries(Object.entries(target.addons).map(([name, path]) => [name, join(projectDir, path)]));
    const config = seaConfig(loaderFile, bundleFile, join(workDir, `${target.name}.blob`), addonFiles);
    await makeExecutable({ config, blobNode, targetNode: targetNode(target, cacheDir, log), output, workDir, sizeMarker });
    log(`wrote ${output} (${(statSync(output).size / 1e6).toFixed(1)} MB)`);
  }
  // Every executable in dist/, also those of targets not built this time (`sha256sum -c` format).
  const sums = TARGETS.map((target) => `bramble-${target.name}`)
    .filter((file) => existsSync(join(distDir, file)))
    .map((file) => `${sha256File(join(distDir, file))}  ${file}`);
  writeFileSync(join(distDir, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  rmSync(workDir, { recursive: true, force: true });
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`build: ${error.message}\n`);
  process.exitCode = 1;
});
