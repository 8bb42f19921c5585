// Builds the offline test images from Debian's static busybox binaries (extracted by
// scripts/test-host.sh) and loads them into the local Docker engine when they are missing or
// stale. No registry is involved at any point.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { buildImageArchive, busyboxLayer, ensureImageLoaded, formatPlatform, type ImagePlatform } from '../src/image/index.ts';
import { busyboxCacheDir, testImages } from '../test/lib/images.ts';

const platforms: Record<keyof typeof testImages, ImagePlatform> = {
  amd64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
};

const docker = new Dockerode();
for (const [arch, tag] of Object.entries(testImages) as [keyof typeof testImages, string][]) {
  const binaryPath = join(busyboxCacheDir(), arch, 'bin', 'busybox');
  // Foreign-architecture binaries run here through qemu binfmt, which test-host.sh registered.
  const applets = execFileSync(binaryPath, ['--list-full'], { encoding: 'utf8' }).split('\n');
  const archive = await buildImageArchive({
    repoTags: [tag],
    platform: platforms[arch],
    layer: busyboxLayer(readFileSync(binaryPath), applets),
    cmd: ['sh'],
    labels: { 'org.bramble.test-image': 'busybox' },
  });
  const outcome = await ensureImageLoaded(docker, archive, [tag]);
  console.log(`${tag} (${formatPlatform(platforms[arch])}): ${outcome} ${archive.imageId.slice(0, 19)}`);
}
