import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { extract } from 'tar-stream';
import { buildImageArchive, busyboxLayer, type ImageSpec, platformOfNodeArch } from '../../../src/image/index.ts';

interface TarItem {
  name: string;
  type: string;
  mode: number;
  linkname: string | null;
  content: Buffer;
}

async function untar(tarball: Buffer): Promise<Map<string, TarItem>> {
  const items = new Map<string, TarItem>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        items.set(header.name.replace(/\/$/, ''), {
          name: header.name,
          type: header.type ?? 'file',
          mode: header.mode ?? 0,
          linkname: header.linkname ?? null,
          content: Buffer.concat(chunks),
        });
        next();
      });
      stream.resume();
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  Readable.from([tarball]).pipe(reader);
  await done;
  return items;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const spec: ImageSpec = {
  repoTags: ['example/tool:arm64'],
  platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  layer: [
    { type: 'file', path: '/usr/local/bin/tool', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'symlink', path: '/bin/tool', target: '/usr/local/bin/tool' },
  ],
  cmd: ['tool'],
  labels: { purpose: 'test' },
};

describe('image archive builder', () => {
  test('writes a docker-load archive whose config carries the platform and whose digests match', async () => {
    const archive = await buildImageArchive(spec);
    const outer = await untar(archive.tarball);
    const manifest = JSON.parse(outer.get('manifest.json')!.content.toString()) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    assert.equal(manifest.length, 1);
    assert.deepEqual(manifest[0]!.RepoTags, ['example/tool:arm64']);
    const configBytes = outer.get(manifest[0]!.Config)!.content;
    assert.equal(`sha256:${sha256(configBytes)}`, archive.imageId, 'image id is the config digest');
    const config = JSON.parse(configBytes.toString()) as {
      architecture: string;
      variant?: string;
      os: string;
      config: { Cmd: string[]; Labels: Record<string, string>; Env: string[] };
      rootfs: { diff_ids: string[] };
    };
    assert.equal(config.architecture, 'arm64');
    assert.equal(config.variant, 'v8');
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config.Cmd, ['tool']);
    assert.deepEqual(config.config.Labels, { purpose: 'test' });
    const layerBytes = outer.get(manifest[0]!.Layers[0]!)!.content;
    assert.deepEqual(config.rootfs.diff_ids, [`sha256:${sha256(layerBytes)}`], 'diff id is the layer digest');

    const layer = await untar(layerBytes);
    assert.deepEqual([...layer.keys()], ['bin', 'bin/tool', 'usr', 'usr/local', 'usr/local/bin', 'usr/local/bin/tool']);
    assert.equal(layer.get('usr/local')!.type, 'directory', 'implied parent directories are added');
    assert.equal(layer.get('usr/local/bin/tool')!.mode, 0o755);
    assert.equal(layer.get('usr/local/bin/tool')!.content.toString(), '#!/bin/sh\necho hi\n');
    assert.equal(layer.get('bin/tool')!.type, 'symlink');
    assert.equal(layer.get('bin/tool')!.linkname, '/usr/local/bin/tool');
  });

  test('the same inputs give the same image id; another platform gives another', async () => {
    const first = await buildImageArchive(spec);
    const second = await buildImageArchive(spec);
    assert.equal(first.imageId, second.imageId);
    assert.ok(first.tarball.equals(second.tarball), 'byte-identical archives');
    const amd64 = await buildImageArchive({ ...spec, platform: { os: 'linux', architecture: 'amd64' } });
    assert.notEqual(amd64.imageId, first.imageId);
  });

  test('rejects layer paths that escape or repeat, and files used as directories', async () => {
    const withLayer = (layer: ImageSpec['layer']) => buildImageArchive({ ...spec, layer });
    await assert.rejects(withLayer([{ type: 'file', path: '/../etc/passwd', content: Buffer.from('x') }]), /invalid layer path "\/\.\.\/etc\/passwd"/);
    await assert.rejects(withLayer([{ type: 'directory', path: '/' }]), /invalid layer path "\/"/);
    await assert.rejects(
      withLayer([
        { type: 'file', path: '/a', content: Buffer.from('1') },
        { type: 'file', path: 'a', content: Buffer.from('2') },
      ]),
      /layer path "\/a" appears twice/,
    );
    await assert.rejects(
      withLayer([
        { type: 'file', path: '/a', content: Buffer.from('1') },
        { type: 'file', path: '/a/b', content: Buffer.from('2') },
      ]),
      /layer path "\/a" is a file but "\/a\/b" is inside it/,
    );
  });

  test('busybox layer: the binary, one symlink per applet, a world-writable sticky /tmp', () => {
    const layer = busyboxLayer(Buffer.from('ELF'), ['/bin/sh', 'usr/bin/wget', 'bin/sh', '', 'bin/busybox']);
    const byPath = new Map(layer.map((entry) => [entry.path, entry]));
    assert.equal(byPath.get('/bin/busybox')?.type, 'file');
    assert.deepEqual(byPath.get('/bin/sh'), { type: 'symlink', path: '/bin/sh', target: '/bin/busybox' });
    assert.deepEqual(byPath.get('/usr/bin/wget'), { type: 'symlink', path: '/usr/bin/wget', target: '/bin/busybox' });
    assert.equal(layer.filter((entry) => entry.path === '/bin/sh').length, 1, 'duplicate applets appear once');
    const tmp = byPath.get('/tmp');
    assert.equal(tmp?.type, 'directory');
    assert.equal(tmp?.type === 'directory' ? tmp.mode : undefined, 0o1777);
  });

  test('platform of a Node arch: x64, arm64, armv6 and armv7, and a clear error otherwise', () => {
    assert.deepEqual(platformOfNodeArch('x64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(platformOfNodeArch('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(platformOfNodeArch('arm', '6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
    assert.deepEqual(platformOfNodeArch('arm', '7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.throws(() => platformOfNodeArch('riscv64'), /unsupported CPU architecture "riscv64"/);
  });
});
