// The control plane in three real `bramble up` processes on the real Docker engine (all three
// share this machine's engine): a Deployment spreads, scales, rolls to a new image within
// maxUnavailable, rolls back, and survives kill -9 of a board and of the leader; driven with the
// real kubectl where the issue asks for it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kinds, type HttpClient } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { type BrambleNode } from '../../lib/bramble-cluster.ts';
import { controlArgs, isReadyPod, leaderOf, sleeperDeployment, startControlCluster, type PodView } from '../../lib/control-cluster.ts';
import { docker } from '../../lib/docker.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { kubectl, kubectlOk } from '../../lib/kubectl.ts';
import { bramble } from '../../lib/commands.ts';
import { ProcessGroup } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const V2 = 'bramble-test/busybox:control-v2';

const ready = isReadyPod;

describe('control plane on a 3-node cluster (real processes, real Docker, real kubectl)', { timeout: 300_000 }, () => {
  const group = new ProcessGroup();
  const nodes: BrambleNode[] = [];
  const live = (): BrambleNode[] => nodes.filter((n) => n.process.running);
  const clientOf = (n: BrambleNode): HttpClient => adminClient(n.process.dataDir);
  const kubeconfigOf = (n: BrambleNode): string => join(n.process.dataDir, 'kubeconfig');
  const anyLive = (): BrambleNode => live()[0]!;
  const webPods = async (): Promise<PodView[]> => (await clientOf(anyLive()).list(Kinds.pods, { namespace: 'default', labelSelector: 'app=web' })).items as PodView[];
  const leader = (): Promise<BrambleNode> => leaderOf(nodes);

  before(async () => {
    await docker(['tag', testImages.amd64, V2]);
    nodes.push(...(await startControlCluster(group, ['pi1', 'pi2', 'pi3'])));
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
    await docker(['rmi', V2]).catch(() => undefined);
  });

  test('a Deployment of 6 spreads two per node (kubectl get pods -o wide)', async () => {
    await clientOf(nodes[0]!).create(Kinds.deployments, sleeperDeployment('web', 6));
    await kubectlOk(kubeconfigOf(nodes[0]!), ['rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    const wide = await kubectlOk(kubeconfigOf(nodes[0]!), ['get', 'pods', '-l', 'app=web', '-o', 'wide', '--no-headers']);
    const perNode = new Map<string, number>();
    for (const line of wide.trim().split('\n')) {
      const cols = line.trim().split(/\s+/);
      assert.equal(cols[2], 'Running', line);
      perNode.set(cols[6]!, (perNode.get(cols[6]!) ?? 0) + 1);
    }
    assert.deepEqual([...perNode.entries()].sort(), [['pi1', 2], ['pi2', 2], ['pi3', 2]]);
  });

  test('kubectl scale down and up', async () => {
    await kubectlOk(kubeconfigOf(nodes[1]!), ['scale', 'deployment/web', '--replicas=3']);
    await waitFor('3 web pods', async () => ((await webPods()).filter((p) => p.metadata.deletionTimestamp === undefined).length === 3 ? true : null), 30_000);
    await kubectlOk(kubeconfigOf(nodes[1]!), ['scale', 'deployment/web', '--replicas=6']);
    await kubectlOk(kubeconfigOf(nodes[1]!), ['rollout', 'status', 'deployment/web', '--timeout=60s'], undefined, 70_000);
    assert.equal((await webPods()).filter(ready).length, 6);
  });

  test('a rolling update to a new image keeps at least replicas - maxUnavailable ready; rollout undo goes back', async () => {
    let minReady = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = await webPods().catch(() => undefined);
        if (pods) minReady = Math.min(minReady, pods.filter(ready).length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await kubectlOk(kubeconfigOf(nodes[0]!), ['set', 'image', 'deployment/web', `main=${V2}`]);
      await kubectlOk(kubeconfigOf(nodes[0]!), ['rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    } finally {
      sampling = false;
      await sampler;
    }
    assert.ok(minReady >= 5, `ready pods fell to ${minReady} (maxUnavailable 1 of 6)`);
    const afterUpdate = (await webPods()).filter(ready);
    assert.equal(afterUpdate.length, 6);
    assert.ok(afterUpdate.every((p) => p.spec.containers[0]?.image === V2));
    const history = await kubectlOk(kubeconfigOf(nodes[0]!), ['rollout', 'history', 'deployment/web']);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);

    await kubectlOk(kubeconfigOf(nodes[0]!), ['rollout', 'undo', 'deployment/web']);
    await kubectlOk(kubeconfigOf(nodes[0]!), ['rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    const back = (await webPods()).filter(ready);
    assert.equal(back.length, 6);
    assert.ok(back.every((p) => p.spec.containers[0]?.image === testImages.amd64));
    const d = await clientOf(nodes[0]!).get(Kinds.deployments, 'default', 'web');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  });

  test('a Service gets Endpoints with the ready web pods\' IPs', async () => {
    await clientOf(nodes[0]!).create(Kinds.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    const ips = (await webPods()).filter(ready).map((p) => (p['status'] as { podIP: string }).podIP).sort();
    const endpoints = await waitFor('endpoints with 6 addresses', async () => {
      const ep = JSON.parse(await kubectlOk(kubeconfigOf(nodes[1]!), ['get', 'endpoints', 'web', '-o', 'json']).catch(() => '{}')) as { subsets?: { addresses?: { ip: string }[]; ports: { port: number }[] }[] };
      return ep.subsets?.[0]?.addresses?.length === 6 ? ep : null;
    }, 30_000);
    assert.deepEqual(endpoints.subsets![0]!.addresses!.map((a) => a.ip).sort(), ips);
    assert.equal(endpoints.subsets![0]!.ports[0]!.port, 8080);
  });

  test('a DaemonSet runs one pod per node, and on a node that joins later', async () => {
    await clientOf(nodes[0]!).create(Kinds.daemonsets, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: SLEEPER_COMMAND }] } } },
    });
    const daemonPods = async (): Promise<PodView[]> => ((await clientOf(anyLive()).list(Kinds.pods, { namespace: 'default', labelSelector: 'app=agent' })).items as PodView[]).filter(ready);
    const placed = await waitFor('a daemon pod on each of the three nodes', async () => {
      const pods = await daemonPods();
      return pods.length === 3 ? pods.map((p) => p.spec.nodeName).sort() : null;
    }, 60_000);
    assert.deepEqual(placed, ['pi1', 'pi2', 'pi3']);
    const process = await group.spawn('pi4', {
      portNames: ['peer', 'client', 'api'],
      args: ({ ports, dataDir }) => [
        'up', '--name', 'pi4', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`,
        '--api-addr', `127.0.0.1:${ports['api']}`, '--join', nodes[0]!.clientAddress, '--bundle', nodes[0]!.bundleDir, ...controlArgs(),
      ],
    });
    nodes.push({ name: 'pi4', process, peerAddress: `127.0.0.1:${process.ports['peer']}`, clientAddress: `127.0.0.1:${process.ports['client']}`, bundleDir: nodes[0]!.bundleDir, tls: nodes[0]!.tls });
    await waitFor('a daemon pod on pi4', async () => ((await daemonPods()).some((p) => p.spec.nodeName === 'pi4') ? true : null), 90_000);
    assert.equal((await daemonPods()).length, 4);
    const status = (await clientOf(nodes[0]!).get(Kinds.daemonsets, 'default', 'agent'))['status'] as Record<string, number>;
    assert.equal(status['desiredNumberScheduled'], 4);
  });

  test('a Job with completions 2 completes (kubectl wait --for=condition=complete)', async () => {
    await clientOf(nodes[0]!).create(Kinds.jobs, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: 'default' },
      spec: { completions: 2, parallelism: 2, backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo done'] }] } } },
    });
    await kubectlOk(kubeconfigOf(nodes[0]!), ['wait', '--for=condition=complete', 'job/once', '--timeout=60s'], undefined, 70_000);
    const job = await clientOf(nodes[0]!).get(Kinds.jobs, 'default', 'once');
    assert.equal((job['status'] as { succeeded: number }).succeeded, 2);
  });

  test('a rollout that cannot progress exceeds progressDeadlineSeconds: kubectl and bramble rollout status exit 1', async () => {
    const stuck = sleeperDeployment('stuck', 1, 'bramble-test/not-on-this-engine:1');
    (stuck['spec'] as { progressDeadlineSeconds: number }).progressDeadlineSeconds = 3;
    await clientOf(anyLive()).create(Kinds.deployments, stuck);
    const progressing = async () => ((await clientOf(anyLive()).get(Kinds.deployments, 'default', 'stuck'))['status'] as { conditions?: { type: string; status: string; reason?: string; message?: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Progressing');
    // Nothing happens in the cluster after the pod's ErrImageNeverPull: the controller's own re-check at the deadline decides.
    const condition = await waitFor('Progressing=False', async () => ((await progressing())?.status === 'False' ? progressing() : null), 30_000);
    assert.equal(condition?.reason, 'ProgressDeadlineExceeded');
    assert.match(condition?.message ?? '', /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    const viaKubectl = await kubectl(kubeconfigOf(anyLive()), ['rollout', 'status', 'deployment/stuck', '--timeout=30s'], undefined, 40_000);
    assert.equal(viaKubectl.code, 1, viaKubectl.stdout + viaKubectl.stderr);
    assert.match(viaKubectl.stderr, /error: deployment "stuck" exceeded its progress deadline/);
    const viaBramble = await bramble(['rollout', 'status', 'deployment/stuck'], { timeoutMs: 40_000, env: { HOME: '/nonexistent', KUBECONFIG: kubeconfigOf(anyLive()) } });
    assert.equal(viaBramble.code, 1, viaBramble.stdout + viaBramble.stderr);
    assert.equal(viaBramble.stderr, 'error: deployment "stuck" exceeded its progress deadline\n');
    assert.equal(viaBramble.stdout, '');
    await clientOf(anyLive()).delete(Kinds.deployments, 'default', 'stuck');
  });

  test('kill -9 of a board holding pods: its pods are replaced on the others', async () => {
    // Its own Deployment, whose pods prefer a board that is not the leader: the victim holds pods
    // whatever ran before this test (or did not run), and the leader stays up to replace them.
    const lead = await leader();
    const victim = live().find((n) => n !== lead)!;
    const moved = sleeperDeployment('moved', 4);
    const template = (moved['spec'] as { template: { spec: Record<string, unknown> } }).template;
    template.spec['affinity'] = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [victim.name] }] } }] } };
    await clientOf(lead).create(Kinds.deployments, moved);
    const movedPods = async (): Promise<PodView[]> => (await clientOf(anyLive()).list(Kinds.pods, { namespace: 'default', labelSelector: 'app=moved' })).items as PodView[];
    const placed = await waitFor('4 ready pods of "moved"', async () => {
      const pods = (await movedPods()).filter(ready);
      return pods.length === 4 ? pods.map((p) => p.spec.nodeName) : null;
    }, 90_000);
    assert.ok(placed.includes(victim.name), `the victim ${victim.name} holds pods of "moved" (they are on ${placed.join(', ')})`);
    const killedAt = Date.now();
    await victim.process.kill('SIGKILL');
    await waitFor(`4 ready pods of "moved" on boards other than ${victim.name}`, async () => {
      const pods = (await movedPods()).filter(ready);
      return pods.length === 4 && pods.every((p) => p.spec.nodeName !== victim.name) ? true : null;
    }, 90_000);
    const node = await clientOf(lead).get(Kinds.nodes, undefined, victim.name);
    assert.ok(((node['spec'] as { taints?: { key: string }[] }).taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable'));
    assert.equal((node['status'] as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Ready')?.status, 'Unknown');
    console.log(`# pods back on other boards ${Date.now() - killedAt} ms after kill -9`);
    // The board comes back: untainted, Ready again.
    victim.process.start();
    await waitFor('the victim API back', () => clientOf(victim).list(Kinds.nodes).then(() => true, () => null), 60_000);
    await waitFor('victim untainted and Ready', async () => {
      const n = await clientOf(lead).get(Kinds.nodes, undefined, victim.name);
      const untainted = !((n['spec'] as { taints?: { key: string }[] }).taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable');
      const isReady = (n['status'] as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Ready')?.status === 'True';
      return untainted && isReady ? true : null;
    }, 60_000);
    await clientOf(lead).delete(Kinds.deployments, 'default', 'moved');
  });

  test('kill -9 of the leader during a rollout: the rollout completes under the new leader', async () => {
    const lead = await leader();
    const other = nodes.find((n) => n !== lead && n.process.running)!;
    await kubectlOk(kubeconfigOf(other), ['set', 'image', 'deployment/web', `main=${V2}`]);
    await waitFor('the rollout under way', async () => ((await webPods()).some((p) => p.spec.containers[0]?.image === V2) ? true : null), 30_000);
    await lead.process.kill('SIGKILL');
    const next = await leader();
    assert.notEqual(next.name, lead.name);
    await kubectlOk(kubeconfigOf(next), ['rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    const pods = (await webPods()).filter(ready);
    assert.equal(pods.length, 6);
    assert.ok(pods.every((p) => p.spec.containers[0]?.image === V2 && p.spec.nodeName !== lead.name));
  });
});
