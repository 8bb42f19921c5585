import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PodConfigError, staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import type { Pod, Volume } from '../../../src/client/index.ts';
import { mountsFor, prepareVolumes, removePodData } from '../../../src/agent/pods/volumes.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bramble-agent-volumes-'));
  dirs.push(dir);
  return dir;
}

const podWith = (volumes: Volume[]): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-1' }, spec: { containers: [], volumes } });

describe('pod volumes on the node', () => {
  test('configMap files are swapped atomically on change and not rewritten when unchanged', async () => {
    const root = await dataDir();
    const configMaps: Record<string, Record<string, string>> = { 'default/cfg': { 'a.conf': 'one', 'b.conf': 'two' } };
    const pod = podWith([{ name: 'cfg', configMap: { name: 'cfg' } }]);
    const paths = await prepareVolumes(pod, root, staticConfigSource({ configMaps }));
    const dir = paths.get('cfg') ?? '';
    assert.equal(await readFile(join(dir, 'a.conf'), 'utf8'), 'one');
    assert.equal((await stat(join(dir, 'a.conf'))).mode & 0o777, 0o644);
    const version = await readlink(join(dir, '..data'));
    const inode = (await stat(join(dir, version))).ino;

    await prepareVolumes(pod, root, staticConfigSource({ configMaps }));
    assert.equal(await readlink(join(dir, '..data')), version, 'unchanged: same version');
    assert.equal((await stat(join(dir, version))).ino, inode, 'unchanged: nothing rewritten');

    configMaps['default/cfg'] = { 'a.conf': 'uno' };
    await prepareVolumes(pod, root, staticConfigSource({ configMaps }));
    assert.notEqual(await readlink(join(dir, '..data')), version);
    assert.equal(await readFile(join(dir, 'a.conf'), 'utf8'), 'uno');
    assert.equal((await lstat(join(dir, 'b.conf')).catch(() => null)), null, 'a removed key disappears');
    assert.deepEqual((await readdir(dir)).filter((e) => e.startsWith('..') && e !== '..data').length, 1, 'the old version is removed');
  });

  test('secret files are 0400 by default; items choose paths and modes', async () => {
    const root = await dataDir();
    const secrets = { 'default/s': { token: Buffer.from('t'), cert: Buffer.from('c') } };
    const paths = await prepareVolumes(
      podWith([
        { name: 'all', secret: { secretName: 's' } },
        { name: 'some', secret: { secretName: 's', items: [{ key: 'cert', path: 'tls/server.crt', mode: 0o440 }] } },
      ]),
      root,
      staticConfigSource({ secrets }),
    );
    assert.equal((await stat(join(paths.get('all') ?? '', 'token'))).mode & 0o777, 0o400);
    assert.equal(await readFile(join(paths.get('some') ?? '', 'tls/server.crt'), 'utf8'), 'c');
    assert.equal((await stat(join(paths.get('some') ?? '', 'tls/server.crt'))).mode & 0o777, 0o440);
    assert.equal(await stat(join(paths.get('some') ?? '', 'token')).catch(() => null), null);
  });

  test('bad volumes are refused with the reason and the fix', async () => {
    const root = await dataDir();
    const source = staticConfigSource({ configMaps: { 'default/cfg': { k: 'v' } } });
    const refuse = async (volume: Volume, reason: string, message: RegExp) =>
      assert.rejects(prepareVolumes(podWith([volume]), root, source), (error: unknown) => {
        assert.ok(error instanceof PodConfigError);
        assert.equal(error.reason, reason);
        assert.match(error.message, message);
        return true;
      });
    await refuse({ name: 'x', configMap: { name: 'cfg', items: [{ key: 'k', path: '../escape' }] } }, 'InvalidVolume', /must be a relative path inside the volume/);
    await refuse({ name: 'x', configMap: { name: 'cfg', items: [{ key: 'nope', path: 'f' }] } }, 'CreateContainerConfigError', /key "nope" not found in configmap "cfg"/);
    await refuse({ name: 'x', secret: { secretName: 'absent' } }, 'CreateContainerConfigError', /secret "absent" not found in namespace default/);
    await refuse({ name: 'x', hostPath: { path: join(root, 'missing'), type: 'Directory' } }, 'InvalidVolume', /is not a directory on the node: create it or use type DirectoryOrCreate/);
    await refuse({ name: 'x', hostPath: { path: 'relative' } }, 'InvalidVolume', /must be absolute/);
    await refuse({ name: 'x' }, 'InvalidVolume', /has no source this node supports/);
    const optional = await prepareVolumes(podWith([{ name: 'maybe', secret: { secretName: 'absent', optional: true } }]), root, source);
    assert.deepEqual((await readdir(optional.get('maybe') ?? '')).filter((e) => !e.startsWith('..')), []);
  });

  test('mounts: projected volumes are read-only, subPath stays inside, unknown names are refused; removal cleans the pod dir', async () => {
    const root = await dataDir();
    const pod = podWith([{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }, { name: 'host', hostPath: { path: join(root, 'shared'), type: 'DirectoryOrCreate' } }]);
    const paths = await prepareVolumes(pod, root, staticConfigSource({ configMaps: { 'default/cfg': { k: 'v' } } }));
    assert.equal((await stat(paths.get('scratch') ?? '')).mode & 0o777, 0o777);
    assert.ok((await stat(join(root, 'shared'))).isDirectory(), 'DirectoryOrCreate created it');
    const mounts = mountsFor({ name: 'app', image: 'x', volumeMounts: [
      { name: 'cfg', mountPath: '/etc/cfg' },
      { name: 'scratch', mountPath: '/data', subPath: 'logs' },
      { name: 'host', mountPath: '/host', readOnly: true },
    ] }, paths, pod);
    assert.deepEqual(mounts.map((m) => [m.containerPath, m.readOnly]), [['/etc/cfg', true], ['/data', false], ['/host', true]]);
    assert.equal(mounts[1]?.hostPath, join(paths.get('scratch') ?? '', 'logs'));
    assert.throws(() => mountsFor({ name: 'app', image: 'x', volumeMounts: [{ name: 'scratch', mountPath: '/d', subPath: '../../etc' }] }, paths, pod), /subPath/);
    assert.throws(() => mountsFor({ name: 'app', image: 'x', volumeMounts: [{ name: 'nope', mountPath: '/d' }] }, paths, pod), /names no volume of the pod/);
    await removePodData(root, 'uid-1');
    assert.equal(await stat(join(root, 'pods', 'uid-1')).catch(() => null), null);
    assert.ok((await stat(join(root, 'shared'))).isDirectory(), 'a hostPath is the node\'s, never removed');
  });
});
