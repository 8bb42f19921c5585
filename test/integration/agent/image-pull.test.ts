import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { ImageError } from '../../../src/agent/runtime/runtime.ts';
import { buildImageArchive, busyboxLayer } from '../../../src/image/index.ts';
import { busyboxCacheDir } from '../../lib/images.ts';
import { AgentDockerScope, engine } from './docker-agent-scope.ts';
import { LoopbackRegistry } from './loopback-registry.ts';

const scope = new AgentDockerScope();
const registry = new LoopbackRegistry();
const pulledImageIds: string[] = [];
after(async () => {
  await scope.cleanup();
  for (const id of pulledImageIds) await engine.getImage(id).remove({ force: true }).catch(() => undefined);
  await registry.stop();
});

test('images: pulled from a registry that answers, ErrImagePull with the fix when none has it, the local copy when the registry is gone', async () => {
  const binary = join(busyboxCacheDir(), 'amd64', 'bin', 'busybox');
  const applets = execFileSync(binary, ['--list-full'], { encoding: 'utf8' }).split('\n');
  // The run label makes the image id unique to this run, so removing it touches nothing else.
  const archive = await buildImageArchive({
    repoTags: [],
    platform: { os: 'linux', architecture: 'amd64' },
    layer: busyboxLayer(readFileSync(binary), applets),
    cmd: ['sh'],
    labels: { 'io.bramble.test-run': scope.run },
  });
  pulledImageIds.push(archive.imageId);
  await registry.start();
  await registry.publish('bramble-test/pulled', 'v1', archive);
  const reference = `${registry.host}/bramble-test/pulled:v1`;
  const runtime = await scope.runtime(scope.nodeName('pull'));

  assert.equal(await runtime.inspectImage(reference), null, 'not on the node before');
  const pulled = await runtime.ensureImage(reference, 'IfNotPresent');
  assert.equal(pulled.id, archive.imageId, 'the engine pulled exactly the published image');
  assert.ok(registry.requests.some((r) => /^(GET|HEAD) \/v2\/bramble-test\/pulled\/manifests\/v1$/.test(r)), registry.requests.join('\n'));

  const pod = { uid: `pull-${scope.run}`, namespace: 'default', name: 'pulled' };
  const sandbox = await runtime.runPodSandbox({ pod, hostname: 'pulled', ports: [], attempt: 0 });
  const id = await runtime.createContainer(sandbox, { name: 'app', image: reference, command: ['echo', 'ran the pulled image'], env: [], mounts: [], resources: {}, attempt: 0, tty: false, stdin: false });
  await runtime.startContainer(id);
  assert.equal(await text(await runtime.logs(id, { follow: true, timestamps: false })), 'ran the pulled image\n');

  await assert.rejects(runtime.ensureImage(`${registry.host}/bramble-test/absent:v1`, 'IfNotPresent'), (error: unknown) => {
    assert.ok(error instanceof ImageError);
    assert.equal(error.reason, 'ErrImagePull');
    assert.match(error.message, /cannot pull ".*absent:v1" \(.*\) and node .* has no local copy: load it onto the node/);
    return true;
  });

  await registry.stop();
  const requestsBefore = registry.requests.length;
  const local = await runtime.ensureImage(reference, 'Always');
  assert.equal(local.id, archive.imageId, 'Always with no registry answering: the local image, not a failure');
  assert.equal(registry.requests.length, requestsBefore);
  await runtime.removePodSandbox(sandbox);
});
