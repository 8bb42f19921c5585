import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Dockerode from 'dockerode';
import { buildImageArchive, busyboxLayer, ensureImageLoaded, type ImagePlatform, localImageId } from '../../../src/image/index.ts';
import { docker, withDocker } from '../../lib/docker.ts';
import { busyboxCacheDir, testImages } from '../../lib/images.ts';

const engine = new Dockerode();

async function inspectPlatform(reference: string): Promise<{ architecture: string; variant: string; os: string }> {
  const [architecture = '', variant = '', os = ''] = (
    await docker(['image', 'inspect', '--format', '{{.Architecture}}|{{.Variant}}|{{.Os}}', reference])
  )
    .trim()
    .split('|');
  return { architecture, variant, os };
}

function busyboxArchive(arch: 'amd64' | 'arm64', platform: ImagePlatform, tag: string, runId: string) {
  const binary = join(busyboxCacheDir(), arch, 'bin', 'busybox');
  const applets = execFileSync(binary, ['--list-full'], { encoding: 'utf8' }).split('\n');
  // The run id label makes this image's id unique, so removing it cannot touch the shared test images.
  return buildImageArchive({
    repoTags: [tag],
    platform,
    layer: busyboxLayer(readFileSync(binary), applets),
    cmd: ['sh'],
    labels: { 'org.bramble.test-run': runId },
  });
}

describe('image builder against the real Docker engine', () => {
  for (const [arch, platform, machine] of [
    ['arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'aarch64'],
    ['amd64', { os: 'linux', architecture: 'amd64' }, 'x86_64'],
  ] as const) {
    test(`a built ${arch} image loads with its architecture and runs (${machine})`, async () => {
      await withDocker(async (scope) => {
        const runId = randomBytes(4).toString('hex');
        const tag = `bramble-test/image-builder-${runId}:${arch}`;
        const archive = await busyboxArchive(arch, platform, tag, runId);
        scope.trackImage(archive.imageId);
        assert.equal(await ensureImageLoaded(engine, archive, [tag]), 'loaded');
        assert.equal(await localImageId(engine, tag), archive.imageId);
        const inspected = await inspectPlatform(tag);
        assert.equal(inspected.architecture, arch);
        assert.equal(inspected.variant, 'variant' in platform ? platform.variant : '');
        assert.equal(inspected.os, 'linux');
        const { stdout, exitCode } = await scope.run(tag, ['uname', '-m']);
        assert.equal(exitCode, 0);
        assert.equal(stdout.trim(), machine);
        assert.equal(await ensureImageLoaded(engine, archive, [tag]), 'already-present', 'a second load is skipped');
      });
    });
  }

  test('a damaged archive is refused with the engine\'s reason and changes nothing', async () => {
    const runId = randomBytes(4).toString('hex');
    const tag = `bramble-test/damaged-${runId}:amd64`;
    // A layer of its own (the engine may already hold busybox's), cut off halfway through.
    const archive = await buildImageArchive({
      repoTags: [tag],
      platform: { os: 'linux', architecture: 'amd64' },
      layer: [{ type: 'file', path: '/payload', content: Buffer.alloc(64 * 1024, runId) }],
    });
    const truncated = { ...archive, tarball: archive.tarball.subarray(0, archive.tarball.length / 2) };
    await assert.rejects(ensureImageLoaded(engine, truncated, [tag]), /docker load/);
    assert.equal(await localImageId(engine, tag), null);
    assert.equal(await localImageId(engine, archive.imageId), null);
  });

  test('the provisioned test images report amd64 and arm64/v8, and arm64 runs through qemu', async () => {
    assert.deepEqual(await inspectPlatform(testImages.amd64), { architecture: 'amd64', variant: '', os: 'linux' });
    assert.deepEqual(await inspectPlatform(testImages.arm64), { architecture: 'arm64', variant: 'v8', os: 'linux' });
    await withDocker(async (scope) => {
      const arm = await scope.run(testImages.arm64, ['uname', '-m']);
      assert.equal(arm.stdout.trim(), 'aarch64');
      const amd = await scope.run(testImages.amd64, ['uname', '-m']);
      assert.equal(amd.stdout.trim(), 'x86_64');
    });
  });
});
