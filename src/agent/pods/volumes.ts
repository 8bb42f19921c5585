import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../runtime/runtime.ts';
import { type ConfigSource, PodConfigError } from './config-sources.ts';
import type { Container, KeyToPath, Pod, Volume } from '../../client/index.ts';
import { memoryBytes } from './quantities.ts';

const execFileAsync = promisify(execFile);

/** The issue asks for secret files readable by the owner only unless the pod says otherwise. */
export const defaultSecretMode = 0o400;
export const defaultConfigMapMode = 0o644;

/** <dataDir>/pods/<uid>: everything the node keeps for one pod; removed with the pod. */
export function podDir(dataDir: string, podUid: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(podUid)) throw new Error(`invalid pod uid "${podUid}"`);
  return join(dataDir, 'pods', podUid);
}

function safeRelative(path: string, what: string): string {
  const cleaned = normalize(path);
  if (cleaned.startsWith('/') || cleaned === '..' || cleaned.startsWith(`..${sep}`) || cleaned.split(sep).includes('..') || cleaned.startsWith('..')) {
    throw new PodConfigError('InvalidVolume', `${what} "${path}" must be a relative path inside the volume, without ".." or a leading ".."`);
  }
  return cleaned;
}

/**
 * Writes keys as files the way Kubernetes' atomic writer does, so a running container sees an
 * update all at once: the files go into a fresh hidden directory, `..data` is switched to it with
 * one rename, and each top-level name is a symlink through `..data`.
 */
async function writeAtomically(dir: string, files: Array<{ path: string; content: Uint8Array; mode: number }>): Promise<void> {
  // The version directory is named after its content: a resync of an unchanged object finds
  // `..data` already pointing at it and writes nothing (SD cards wear out).
  const fingerprint = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) fingerprint.update(`${file.path}\0${file.mode}\0`).update(file.content).update('\0');
  const version = `..${fingerprint.digest('hex').slice(0, 16)}`;
  const previous = await readlink(join(dir, '..data')).catch(() => null);
  if (previous === version) return;
  await mkdir(dir, { recursive: true });
  const versionDir = join(dir, version);
  await rm(versionDir, { recursive: true, force: true }); // half-written by an agent that died
  await mkdir(versionDir);
  for (const file of files) {
    const target = join(versionDir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
    await chmod(target, file.mode);
  }
  await rm(join(dir, '..data_tmp'), { force: true });
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  const topLevel = new Set(files.map((f) => f.path.split(sep)[0] ?? f.path));
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..')) continue;
    if (!topLevel.has(entry)) await rm(join(dir, entry), { force: true });
  }
  for (const name of topLevel) {
    const link = join(dir, name);
    if ((await readlink(link).catch(() => null)) !== join('..data', name)) {
      await rm(link, { force: true, recursive: true });
      await symlink(join('..data', name), link);
    }
  }
  if (previous && previous !== version) await rm(join(dir, previous), { recursive: true, force: true });
}

function projectedFiles(data: Record<string, Uint8Array>, items: KeyToPath[] | undefined, defaultMode: number, objectDescription: string) {
  if (!items) return Object.entries(data).map(([key, content]) => ({ path: safeRelative(key, 'key'), content, mode: defaultMode }));
  return items.map((item) => {
    const content = data[item.key];
    if (content === undefined) throw new PodConfigError('CreateContainerConfigError', `key "${item.key}" not found in ${objectDescription}`);
    return { path: safeRelative(item.path, 'item path'), content, mode: item.mode ?? defaultMode };
  });
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [self, parent] = await Promise.all([stat(path), stat(dirname(path))]);
    return self.dev !== parent.dev;
  } catch {
    return false;
  }
}

async function prepareVolume(pod: Pod, volume: Volume, dir: string, source: ConfigSource): Promise<string> {
  const namespace = pod.metadata.namespace;
  if (volume.emptyDir) {
    if (!(await stat(dir).catch(() => null))) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777); // any container user may write, as in Kubernetes (mkdir's mode is masked by umask)
    }
    if (volume.emptyDir.medium === 'Memory' && !(await isMountPoint(dir))) {
      const size = volume.emptyDir.sizeLimit ? `,size=${memoryBytes(volume.emptyDir.sizeLimit)}` : '';
      // A tmpfs on the node, shared by the pod's containers through the bind mount: an SD card never sees these writes.
      await execFileAsync('mount', ['-t', 'tmpfs', '-o', `mode=1777${size}`, 'tmpfs', dir]).catch((error: Error) => {
        throw new PodConfigError('InvalidVolume', `cannot mount a memory emptyDir for volume "${volume.name}" (${error.message}): the agent must run as root`);
      });
    }
    return dir;
  }
  if (volume.hostPath) {
    const path = volume.hostPath.path;
    if (!path.startsWith('/')) throw new PodConfigError('InvalidVolume', `hostPath "${path}" of volume "${volume.name}" must be absolute`);
    const type = volume.hostPath.type ?? '';
    const existing = await stat(path).catch(() => null);
    if (type === 'DirectoryOrCreate' && !existing) await mkdir(path, { recursive: true, mode: 0o755 });
    else if (type === 'FileOrCreate' && !existing) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, '', { mode: 0o644 });
    } else if (type === 'Directory' && !existing?.isDirectory()) throw new PodConfigError('InvalidVolume', `hostPath "${path}" of volume "${volume.name}" is not a directory on the node: create it or use type DirectoryOrCreate`);
    else if (type === 'File' && !existing?.isFile()) throw new PodConfigError('InvalidVolume', `hostPath "${path}" of volume "${volume.name}" is not a file on the node: create it or use type FileOrCreate`);
    return path;
  }
  if (volume.configMap) {
    const ref = volume.configMap;
    const data = await source.configMap(namespace, ref.name);
    if (!data && !ref.optional) throw new PodConfigError('CreateContainerConfigError', `configmap "${ref.name}" not found in namespace ${namespace} (volume ${volume.name}): create it or mark the volume optional`);
    const bytes = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
    await writeAtomically(dir, projectedFiles(bytes, ref.items, ref.defaultMode ?? defaultConfigMapMode, `configmap "${ref.name}"`));
    return dir;
  }
  if (volume.secret) {
    const ref = volume.secret;
    const data = await source.secret(namespace, ref.secretName);
    if (!data && !ref.optional) throw new PodConfigError('CreateContainerConfigError', `secret "${ref.secretName}" not found in namespace ${namespace} (volume ${volume.name}): create it or mark the volume optional`);
    await writeAtomically(dir, projectedFiles(data ?? {}, ref.items, ref.defaultMode ?? defaultSecretMode, `secret "${ref.secretName}"`));
    return dir;
  }
  throw new PodConfigError('InvalidVolume', `volume "${volume.name}" has no source this node supports: use emptyDir, hostPath, configMap or secret`);
}

/**
 * Prepares every volume of the pod on the node (called on each sync, so a changed ConfigMap or
 * Secret reaches the files) and returns their host paths by volume name.
 */
export async function prepareVolumes(pod: Pod, dataDir: string, source: ConfigSource): Promise<Map<string, string>> {
  const base = join(podDir(dataDir, pod.metadata.uid), 'volumes');
  const paths = new Map<string, string>();
  for (const volume of pod.spec.volumes ?? []) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(volume.name)) throw new PodConfigError('InvalidVolume', `invalid volume name "${volume.name}"`);
    paths.set(volume.name, await prepareVolume(pod, volume, join(base, volume.name), source));
  }
  return paths;
}

/** The container's bind mounts from its volumeMounts. */
export function mountsFor(container: Container, volumePaths: Map<string, string>, pod: Pod): Mount[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const hostPath = volumePaths.get(mount.name);
    if (!hostPath) throw new PodConfigError('CreateContainerConfigError', `volumeMount "${mount.name}" of container "${container.name}" names no volume of the pod`);
    const volume = pod.spec.volumes?.find((v) => v.name === mount.name);
    // Projected volumes are read-only in Kubernetes whatever the mount says.
    const readOnly = mount.readOnly === true || Boolean(volume?.configMap || volume?.secret);
    return { hostPath: mount.subPath ? join(hostPath, safeRelative(mount.subPath, 'subPath')) : hostPath, containerPath: mount.mountPath, readOnly };
  });
}

/** Removes the pod's node-side data (unmounting memory emptyDirs first). */
export async function removePodData(dataDir: string, podUid: string): Promise<void> {
  const base = join(podDir(dataDir, podUid), 'volumes');
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const dir = join(base, name);
    if (await isMountPoint(dir)) await execFileAsync('umount', [dir]);
  }
  await rm(podDir(dataDir, podUid), { recursive: true, force: true });
}
