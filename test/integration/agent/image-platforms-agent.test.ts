// The agent publishes its engine's image platforms on its Node (bramble.io/image-platforms) for the
// scheduler: the real agent (startAgent) on the real Docker engine and a real single-member Raft
// node with the API's registry. A `docker load` reaches the Node through the engine's image events
// (the slow re-listing is set to an hour here, so only the events can explain it), and an idle
// node writes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startAgent, type RunningAgent } from '../../../src/agent/agent.ts';
import { IMAGE_ANNOTATIONS, IMAGE_PLATFORMS_ANNOTATION } from '../../../src/agent/image-platforms.ts';
import { readNodeConditions, readNodeFacts } from '../../../src/agent/node-info.ts';
import { NodeRegistration } from '../../../src/agent/node-registration.ts';
import { InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { buildImageArchive, ensureImageLoaded } from '../../../src/image/index.ts';
import { testImages } from '../../lib/images.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';
import { engine } from './docker-agent-scope.ts';
import { waitFor } from '../../lib/wait.ts';

const run = randomUUID().slice(0, 8);

describe('the agent publishes the platforms of its local images', { timeout: 120_000 }, () => {
  let raft: InProcessNode;
  let client: InProcessClient;
  let agent: RunningAgent;
  const dataDir = mkdtempSync(join(tmpdir(), 'bramble-image-platforms-'));
  const nodeName = `images-${run}`;
  const loaded: string[] = [];

  const platforms = async (name = nodeName): Promise<Record<string, string[]> | null> => {
    const node = (await client.get(Kinds.nodes, undefined, name).catch(() => null)) as KubeObject | null;
    const raw = (node?.metadata.annotations as Record<string, string> | undefined)?.[IMAGE_PLATFORMS_ANNOTATION];
    return raw ? (JSON.parse(raw) as Record<string, string[]>) : null;
  };

  before(async () => {
    raft = await startInProcessNode(`images-${run}`);
    client = new InProcessClient(raft.registry);
    agent = await startAgent({
      client,
      nodeName,
      dataDir,
      hostRoot: '/',
      runtime: 'docker',
      internalIP: '127.0.0.1',
      apiPort: 1,
      logger: pino({ level: 'silent' }),
      nodeStatusIntervalMs: 100,
      imageRefreshIntervalMs: 3_600_000,
    });
  });

  after(async () => {
    await agent?.stop();
    for (const id of loaded) await engine.getImage(id).remove({ force: true }).catch(() => undefined);
    await raft?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the test images are listed by their platform under the spellings a pod may use', async () => {
    const listed = await waitFor('the annotation', () => platforms());
    assert.deepEqual(listed[testImages.arm64], ['linux/arm64']);
    assert.deepEqual(listed[`docker.io/${testImages.arm64}`], ['linux/arm64']);
    assert.deepEqual(listed[testImages.amd64], ['linux/amd64']);
    assert.equal(Object.keys(listed).some((k) => k.startsWith('bramble/pause')), false, 'the pause image is no pod image');
  });

  test('a loaded image appears at once (engine events), a removed one disappears; idle means no write', async () => {
    const tag = `bramble-test/agent-images-${run}:1`;
    const archive = await buildImageArchive({ repoTags: [tag], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layer: [{ type: 'file', path: 'x', content: Buffer.from(run) }], labels: { 'org.bramble.test-run': run } });
    loaded.push(archive.imageId);
    await ensureImageLoaded(engine, archive, [tag]);
    await waitFor(`${tag} in the annotation`, async () => (await platforms())?.[tag]?.[0] === 'linux/arm64', 15_000);
    assert.deepEqual((await platforms())?.[`docker.io/${tag}`], ['linux/arm64']);
    await engine.getImage(archive.imageId).remove({ force: true });
    await waitFor(`${tag} gone from the annotation`, async () => (await platforms())?.[tag] === undefined, 15_000);

    // Twenty node checks later the Node is still the one written last, unless another test on
    // this shared engine changed its images meanwhile (then one write per change is right).
    const annotation = JSON.stringify(await platforms());
    const writes = agent.registration.writes;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    if (JSON.stringify(await platforms()) === annotation) assert.equal(agent.registration.writes, writes, 'an idle node wrote its Node');
  });

  test('the registration removes the image annotations the agent owns when none are listed, and keeps them when the engine is not asked', async () => {
    const other = `images-owned-${run}`;
    const registration = new NodeRegistration({ client, nodeName: other, internalIP: '127.0.0.1', apiPort: 1 });
    const facts = await readNodeFacts({ nodeName: other, hostRoot: '/', runtime: { runtimeName: 'docker', runtimeVersion: 'x', platform: { os: 'linux', architecture: 'amd64' } }, maxPods: 110, reservedMemoryBytes: 0 });
    const conditions = await readNodeConditions({ hostRoot: '/', dataDir, runtimeReachable: true });
    const values = { [IMAGE_PLATFORMS_ANNOTATION]: JSON.stringify({ 'a:1': ['linux/amd64'] }) };
    assert.equal(await registration.sync({ facts, conditions, annotations: { owned: IMAGE_ANNOTATIONS, values } }), 'created');
    assert.deepEqual(await platforms(other), { 'a:1': ['linux/amd64'] });
    assert.equal(await registration.sync({ facts, conditions, annotations: { owned: IMAGE_ANNOTATIONS, values } }), 'unchanged');
    assert.equal(await registration.sync({ facts, conditions }), 'unchanged', 'no reading of the engine: the stored list stands');
    assert.equal(await registration.sync({ facts, conditions, annotations: { owned: IMAGE_ANNOTATIONS, values: {} } }), 'updated');
    assert.equal(await platforms(other), null);
  });
});
