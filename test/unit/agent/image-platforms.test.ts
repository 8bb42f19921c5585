import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMAGE_PLATFORMS_ANNOTATION as SCHEDULER_ANNOTATION } from '../../../src/control/scheduler/filters.ts';
import {
  IMAGE_PLATFORMS_ANNOTATION,
  IMAGE_PLATFORMS_OMITTED_ANNOTATION,
  imagePlatformsAnnotations,
  imageReferenceAliases,
} from '../../../src/agent/image-platforms.ts';
import type { ImageInfo } from '../../../src/agent/runtime/runtime.ts';

function image(tags: string[], platform: ImageInfo['platform'], repoDigests: string[] = []): ImageInfo {
  return { id: `sha256:${tags.join(',')}`, repoTags: tags, repoDigests, platform, sizeBytes: 1 };
}
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const amd64 = { os: 'linux', architecture: 'amd64' };

test('the agent writes the annotation the scheduler reads', () => {
  assert.equal(IMAGE_PLATFORMS_ANNOTATION, SCHEDULER_ANNOTATION);
});

test('aliases: every spelling a pod may use for a Docker tag, as the engine resolves them', () => {
  assert.deepEqual(imageReferenceAliases('busybox:latest').sort(), ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', 'library/busybox', 'library/busybox:latest']);
  assert.deepEqual(imageReferenceAliases('busybox:1.36').sort(), ['busybox:1.36', 'docker.io/library/busybox:1.36', 'library/busybox:1.36']);
  assert.deepEqual(imageReferenceAliases('bramble-test/busybox:arm64').sort(), ['bramble-test/busybox:arm64', 'docker.io/bramble-test/busybox:arm64']);
  assert.deepEqual(imageReferenceAliases('docker.io/library/nginx:latest').sort(), ['docker.io/library/nginx', 'docker.io/library/nginx:latest', 'library/nginx', 'library/nginx:latest', 'nginx', 'nginx:latest']);
  assert.deepEqual(imageReferenceAliases('registry.lan:5000/team/app:2'), ['registry.lan:5000/team/app:2']);
  assert.deepEqual(imageReferenceAliases('localhost/app:latest'), ['localhost/app:latest', 'localhost/app']);
  assert.deepEqual(imageReferenceAliases('registry.lan:5000/app'), ['registry.lan:5000/app:latest', 'registry.lan:5000/app'], 'a port is not a tag');
});

test('loaded images are listed by platform (arm64/v8 as arm64); pulled, pause and untagged images are not', () => {
  const out = imagePlatformsAnnotations([
    image(['pi/app:1'], arm64),
    image(['tool:latest', 'tool:2'], amd64),
    image(['nginx:latest'], amd64, ['nginx@sha256:abc']),
    image(['bramble/pause:amd64-926eae7a0764'], amd64),
    image([], amd64),
    image(['armv7/app:1'], { os: 'linux', architecture: 'arm', variant: 'v7' }),
  ]);
  assert.equal(out[IMAGE_PLATFORMS_OMITTED_ANNOTATION], undefined);
  const parsed = JSON.parse(out[IMAGE_PLATFORMS_ANNOTATION]!) as Record<string, string[]>;
  assert.deepEqual(parsed['pi/app:1'], ['linux/arm64']);
  assert.deepEqual(parsed['docker.io/pi/app:1'], ['linux/arm64']);
  assert.deepEqual(parsed['tool'], ['linux/amd64']);
  assert.deepEqual(parsed['docker.io/library/tool:2'], ['linux/amd64']);
  assert.deepEqual(parsed['armv7/app:1'], ['linux/arm/v7']);
  assert.equal(Object.keys(parsed).some((k) => k.includes('nginx') || k.includes('pause')), false);
  assert.deepEqual(Object.keys(parsed), Object.keys(parsed).sort(), 'keys sorted: the same engine gives the same text');
});

test('the same images in another order give the same text; none listed gives no annotation', () => {
  const images = [image(['b:1'], amd64), image(['a:1'], arm64), image(['c:1'], amd64)];
  assert.deepEqual(imagePlatformsAnnotations(images), imagePlatformsAnnotations([...images].reverse()));
  assert.deepEqual(imagePlatformsAnnotations([image(['nginx:1'], amd64, ['nginx@sha256:1'])]), {});
});

test('bounds: at most maxImages images and maxBytes of JSON; the rest are left out whole and counted', () => {
  const many = Array.from({ length: 40 }, (_, i) => image([`team/app-${String(i).padStart(2, '0')}:1`], i % 2 ? arm64 : amd64));
  const byCount = imagePlatformsAnnotations(many, { maxImages: 10, maxBytes: 1 << 20 });
  const counted = JSON.parse(byCount[IMAGE_PLATFORMS_ANNOTATION]!) as Record<string, string[]>;
  assert.equal(Object.keys(counted).length, 20, 'ten images, two spellings each');
  assert.ok(counted['team/app-09:1'] && !counted['team/app-10:1'], 'the first ten by tag are kept');
  assert.equal(byCount[IMAGE_PLATFORMS_OMITTED_ANNOTATION], '30');
  for (const maxBytes of [100, 500, 1000, 2048]) {
    const bySize = imagePlatformsAnnotations(many, { maxImages: 1000, maxBytes });
    const text = bySize[IMAGE_PLATFORMS_ANNOTATION] ?? '';
    assert.ok(Buffer.byteLength(text) <= maxBytes, `${Buffer.byteLength(text)} bytes within ${maxBytes}`);
    const listed = Object.keys(JSON.parse(text || '{}') as object).length / 2;
    assert.ok(Number.isInteger(listed), 'an image is listed with all its spellings or not at all');
    assert.equal(Number(bySize[IMAGE_PLATFORMS_OMITTED_ANNOTATION]), 40 - listed);
    // Nearly full: one more image would not have fitted.
    assert.ok(maxBytes - Buffer.byteLength(text) < 80, `${maxBytes - Buffer.byteLength(text)} bytes unused`);
  }
});
