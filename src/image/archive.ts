import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { pack } from 'tar-stream';
import type { ImagePlatform } from './platform.ts';

/** One entry of an image's single filesystem layer. */
export type LayerEntry =
  | { type: 'directory'; path: string; mode?: number }
  | { type: 'file'; path: string; content: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string };

export interface ImageSpec {
  /** e.g. ["bramble-test/busybox:arm64"]; may be empty (load by id only). */
  repoTags: string[];
  platform: ImagePlatform;
  layer: LayerEntry[];
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  labels?: Record<string, string>;
  /** Fixed by default so the same inputs always give the same image id. */
  created?: string;
}

export interface ImageArchive {
  /** A `docker save`-format tarball (manifest.json, config, layer), accepted by `docker load`. */
  tarball: Buffer;
  /** "sha256:<hex>" of the config: the id `docker image inspect` reports after loading. */
  imageId: string;
}

const defaultEnv = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
const epoch = '1970-01-01T00:00:00Z';

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function normalizePath(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new Error(`invalid layer path "${path}": use an absolute path without ".", ".." or empty parts`);
  }
  return trimmed;
}

/** Adds the parent directories the entries imply and orders parents before children. */
function completeLayer(entries: LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = normalizePath(entry.path);
    if (byPath.has(path)) throw new Error(`layer path "/${path}" appears twice`);
    byPath.set(path, { ...entry, path });
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join('/');
      const existing = byPath.get(parent);
      if (existing && existing.type !== 'directory') {
        throw new Error(`layer path "/${parent}" is a ${existing.type} but "/${path}" is inside it`);
      }
      if (!existing) byPath.set(parent, { type: 'directory', path: parent });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function tarOf(entries: LayerEntry[]): Promise<Buffer> {
  const archive = pack();
  const collected = buffer(archive);
  // Fixed owner and time: the same inputs must give byte-identical layers and image ids.
  const common = { mtime: new Date(0), uid: 0, gid: 0 };
  for (const entry of entries) {
    if (entry.type === 'directory') archive.entry({ ...common, name: entry.path, type: 'directory', mode: entry.mode ?? 0o755 });
    else if (entry.type === 'symlink') archive.entry({ ...common, name: entry.path, type: 'symlink', linkname: entry.target, mode: 0o777 });
    else archive.entry({ ...common, name: entry.path, type: 'file', mode: entry.mode ?? 0o644 }, Buffer.from(entry.content));
  }
  archive.finalize();
  return collected;
}

/**
 * Builds a one-layer image as a `docker load` tarball, with no registry and no Docker build:
 * what an offline edge site and the test host need. The platform goes into the image config,
 * which `docker import` cannot do.
 */
export async function buildImageArchive(spec: ImageSpec): Promise<ImageArchive> {
  const layerTar = await tarOf(completeLayer(spec.layer));
  const layerDigest = sha256Hex(layerTar);
  const created = spec.created ?? epoch;
  const config = {
    architecture: spec.platform.architecture,
    ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
    os: spec.platform.os,
    created,
    config: {
      Env: spec.env ?? defaultEnv,
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      Labels: spec.labels ?? {},
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created, created_by: 'bramble image builder' }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256Hex(configBytes);
  const manifest = [
    { Config: `${configDigest}.json`, RepoTags: spec.repoTags, Layers: [`${layerDigest}/layer.tar`] },
  ];
  const tarball = await tarOf([
    { type: 'file', path: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) },
    { type: 'file', path: `${configDigest}.json`, content: configBytes },
    { type: 'directory', path: layerDigest },
    { type: 'file', path: `${layerDigest}/layer.tar`, content: layerTar },
  ]);
  return { tarball, imageId: `sha256:${configDigest}` };
}
