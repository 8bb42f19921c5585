// Real kubectl 1.32 `logs`, `exec` (WebSocket, v5.channel.k8s.io) and `top` against real `bramble up`
// processes on the real Docker engine: served by the pod's own node, and forwarded from another
// node (each board has its own CA: they trust each other through the CAs published in the store).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { findResource, type KubeObject, type Pod } from '../../src/api/resources/index.ts';
import { adminClient } from '../lib/api-node.ts';
import { groupBundle } from '../lib/bramble-cluster.ts';
import { testImages } from '../lib/images.ts';
import { KUBECTL, runKubectl, type KubectlRun } from '../lib/kubectl.ts';
import { pod } from '../lib/objects.ts';
import { freePort } from '../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../lib/processes.ts';
import { waitFor } from '../lib/wait.ts';

const PODS = findResource('', 'v1', 'pods')!;

/** A pod running `script` in the amd64 test image on `nodeName` (or, with '', left unbound). */
function scriptPod(name: string, nodeName: string, script: string, restartPolicy: 'Always' | 'Never' = 'Always'): Pod {
  return pod(name, {
    ...(nodeName ? { node: nodeName } : {}),
    spec: {
      // An unbound pod names a scheduler that does not exist, so it stays unscheduled.
      ...(nodeName ? {} : { schedulerName: 'no-such-scheduler' }),
      // Tolerations: pic runs no pods (NotReady) and is killed at the end; its pod must not be evicted.
      tolerations: [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      ],
      restartPolicy,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: ['sh', '-c', script] }],
    },
  });
}

describe('real kubectl logs, exec and top', { timeout: 240_000 }, () => {
  const group = new ProcessGroup();
  const names = ['pia', 'pib', 'pic'];
  const nodes: ManagedProcess[] = [];
  let onNode = ''; // kubeconfig of pib, where the pods run
  let viaPeer = ''; // kubeconfig of pia: every request is forwarded to pib

  before(async () => {
    const peers = await Promise.all(names.map(() => freePort()));
    const initialCluster = names.map((name, i) => `${name}=127.0.0.1:${peers[i]}`).join(',');
    const bundle = await groupBundle(group);
    for (const [i, name] of names.entries()) {
      nodes.push(
        await group.spawn(name, {
          portNames: ['client', 'api'],
          args: ({ ports, dataDir }) => [
            'up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${peers[i]}`, '--client-addr', `127.0.0.1:${ports['client']}`,
            '--api-addr', `127.0.0.1:${ports['api']}`, '--initial-cluster', initialCluster, '--bundle', bundle, '--tick-ms', '20', '--election-ticks', '10',
            '--runtime', name === 'pib' ? 'docker' : 'none', '--node-status-ms', '500', '--log-level', 'warn',
          ],
        }),
      );
    }
    await Promise.all(nodes.map((n) => n.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS)));
    onNode = join(nodes[1]!.dataDir, 'kubeconfig');
    viaPeer = join(nodes[0]!.dataDir, 'kubeconfig');
    const client = adminClient(nodes[0]!.dataDir);
    await client.create(PODS, scriptPod('talker', 'pib', 'echo hello-out; echo hello-err >&2; sleep 0.5; echo last-line; while true; do sleep 1; done'));
    await client.create(PODS, scriptPod('parked', 'pic', 'sleep 3600'));
    // Crashes at once; restarted after the back-off (10 s), its first attempt is --previous.
    await client.create(PODS, scriptPod('crasher', 'pib', 'echo attempt-output; exit 1'));
    await client.create(PODS, scriptPod('unbound', '', 'sleep 3600'));
    await waitFor('talker Running', async () => ((await client.get(PODS, 'default', 'talker')) as { status?: { phase?: string } }).status?.phase === 'Running', 60_000);
    // pib's Node must carry its address before pia can forward there.
    await waitFor('pib address published', async () => (await runKubectl(['--kubeconfig', viaPeer, 'get', 'node', 'pib', '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'])).stdout !== '', 30_000);
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
  });

  for (const [where, kc] of [['on the pod\'s node', () => onNode], ['forwarded from another node', () => viaPeer]] as const) {
    test(`logs, --tail and --timestamps ${where}`, async () => {
      // Running comes before the script's last line (printed 0.5 s in): wait for the line, not the phase.
      const all = await waitFor('talker printed its last line', async () => {
        const answer = await runKubectl(['--kubeconfig', kc(), 'logs', 'talker']);
        return answer.code === 0 && answer.stdout.includes('last-line') ? answer : undefined;
      }, 30_000);
      assert.deepEqual(all.stdout.split('\n').filter(Boolean).sort(), ['hello-err', 'hello-out', 'last-line']);
      const tail = await runKubectl(['--kubeconfig', kc(), 'logs', 'talker', '--tail=1']);
      assert.equal(tail.stdout, 'last-line\n');
      const stamped = await runKubectl(['--kubeconfig', kc(), 'logs', 'talker', '--timestamps', '--tail=1']);
      assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z last-line\n$/);
    });

    test(`exec: output, exit code, stdin ${where}`, async () => {
      const hi = await runKubectl(['--kubeconfig', kc(), 'exec', 'talker', '--', 'echo', 'hi']);
      assert.deepEqual([hi.code, hi.stdout], [0, 'hi\n'], hi.stderr);
      const three = await runKubectl(['--kubeconfig', kc(), 'exec', 'talker', '--', 'sh', '-c', 'echo to-stderr >&2; exit 3']);
      assert.equal(three.code, 3, three.stderr);
      assert.match(three.stderr, /to-stderr/);
      const cat = await runKubectl(['--kubeconfig', kc(), 'exec', '-i', 'talker', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'piped through stdin\n' });
      assert.deepEqual([cat.code, cat.stdout], [0, 'PIPED THROUGH STDIN\n'], cat.stderr);
    });
  }

  test('logs -f follows a running container and ends when it stops', async () => {
    const client = adminClient(nodes[0]!.dataDir);
    await client.create(PODS, scriptPod('counter', 'pib', 'echo start; sleep 2; echo middle; sleep 1; echo end', 'Never'));
    await waitFor('counter Running', async () => {
      const phase = ((await client.get(PODS, 'default', 'counter')) as { status?: { phase?: string } }).status?.phase;
      return phase === 'Running' || phase === 'Succeeded';
    }, 60_000);
    const followed = await runKubectl(['--kubeconfig', viaPeer, 'logs', '-f', 'counter']);
    assert.deepEqual([followed.code, followed.stdout], [0, 'start\nmiddle\nend\n'], followed.stderr);
    const done = await runKubectl(['--kubeconfig', onNode, 'exec', 'counter', '--', 'true']);
    assert.notEqual(done.code, 0);
  });

  test('clear errors: unknown container (400), unscheduled pod, a node without pods, an unknown pod', async () => {
    const badContainer = await runKubectl(['--kubeconfig', viaPeer, 'logs', 'talker', '-c', 'nope']);
    assert.equal(badContainer.code, 1);
    assert.match(badContainer.stderr, /container nope is not valid for pod talker/);
    const execBad = await runKubectl(['--kubeconfig', onNode, 'exec', 'talker', '-c', 'nope', '--', 'true']);
    assert.notEqual(execBad.code, 0);
    assert.match(execBad.stderr, /container nope is not valid for pod talker/);
    const unbound = await runKubectl(['--kubeconfig', viaPeer, 'logs', 'unbound']);
    assert.match(unbound.stderr, /pod unbound does not have a host assigned/);
    const parked = await runKubectl(['--kubeconfig', viaPeer, 'logs', 'parked']);
    assert.match(parked.stderr, /node pic runs no pods now/);
    const missing = await runKubectl(['--kubeconfig', viaPeer, 'exec', 'ghost', '--', 'true']);
    assert.match(missing.stderr, /pods "ghost" not found/);
  });

  test('RBAC: a user granted pods/log but not pods/exec reads logs and is refused exec (403)', async () => {
    const dataDir = nodes[0]!.dataDir;
    appendFileSync(join(dataDir, 'auth', 'tokens.csv'), 'viewer-token-0123456789,viewer,3001,\n');
    const client = adminClient(dataDir);
    const rbac = (plural: string) => findResource('rbac.authorization.k8s.io', 'v1', plural)!;
    await client.create(rbac('roles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'log-reader', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }] } as KubeObject);
    await client.create(rbac('rolebindings'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'viewer-logs', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'log-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'viewer' }] } as KubeObject);
    const kubeconfig = parseYaml(readFileSync(viaPeer, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const cluster = kubeconfig.clusters[0]!.cluster;
    const caFile = join(dataDir, 'viewer-ca.crt');
    writeFileSync(caFile, Buffer.from(cluster['certificate-authority-data'], 'base64'));
    const asViewer = ['--kubeconfig', '/dev/null', '--server', cluster.server, '--certificate-authority', caFile, '--token', 'viewer-token-0123456789'];
    const logs = await waitFor('viewer token known', async () => {
      const run = await runKubectl([...asViewer, 'logs', 'talker', '--tail=1']);
      return run.code === 0 ? run : null;
    }, 15_000);
    assert.equal(logs.stdout, 'last-line\n');
    const exec = await runKubectl([...asViewer, 'exec', 'talker', '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /forbidden.*cannot create resource "pods\/exec"|pods "talker" is forbidden/);
  });

  test('bad input: a clear 400 Status for each, and the node keeps serving', async () => {
    const kubeconfig = parseYaml(readFileSync(onNode, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const server = new URL(kubeconfig.clusters[0]!.cluster.server);
    const b64 = (v: string) => Buffer.from(v, 'base64');
    const call = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ code: number; message: string }>((resolve, reject) => {
        const req = request({
          host: server.hostname, port: server.port, path, headers,
          ca: b64(kubeconfig.clusters[0]!.cluster['certificate-authority-data']), cert: b64(kubeconfig.users[0]!.user['client-certificate-data']), key: b64(kubeconfig.users[0]!.user['client-key-data']),
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, message: (JSON.parse(body) as { message: string }).message }));
        });
        req.on('upgrade', () => reject(new Error(`${path} was upgraded`)));
        req.on('error', reject);
        req.end();
      });
    const websocket = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v5.channel.k8s.io' };
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['/api/v1/namespaces/default/pods/talker/log?tailLines=abc', {}, /tailLines must be a non-negative integer, got "abc"/],
      ['/api/v1/namespaces/default/pods/talker/exec?command=true&stdout=true', {}, /exec needs a connection upgrade to WebSocket/],
      ['/api/v1/namespaces/default/pods/talker/exec?stdout=true', websocket, /you must specify at least 1 command/],
      ['/api/v1/namespaces/default/pods/talker/exec?command=true', websocket, /at least 1 of stdin, stdout, stderr/],
      ['/api/v1/namespaces/default/pods/talker/exec?command=true&stdout=true', { ...websocket, 'sec-websocket-protocol': 'v1.channel.k8s.io' }, /none of the offered WebSocket subprotocols/],
      ['/api/v1/namespaces/default/pods', websocket, /does not accept a connection upgrade/],
    ];
    for (const [path, headers, message] of cases) {
      const answer = await call(path, headers);
      assert.equal(answer.code, 400, path);
      assert.match(answer.message, message);
    }
    assert.equal((await runKubectl(['--kubeconfig', onNode, 'exec', 'talker', '--', 'echo', 'still-serving'])).stdout, 'still-serving\n');
  });

  test('kubectl top nodes and top pods: usage from every node\'s memory, gathered by the node asked', async () => {
    const versions = await runKubectl(['--kubeconfig', viaPeer, 'api-versions']);
    assert.match(versions.stdout, /^metrics\.k8s\.io\/v1beta1$/m);
    const nodesTop = await waitFor('top nodes lists all three', async () => {
      const run = await runKubectl(['--kubeconfig', viaPeer, 'top', 'nodes']);
      return run.code === 0 && names.every((n) => new RegExp(`^${n}\\s`, 'm').test(run.stdout)) ? run : null;
    }, 30_000);
    assert.match(nodesTop.stdout, /^NAME\s+CPU\(cores\)\s+CPU(\(%\))?\s+MEMORY\(bytes\)\s+MEMORY(\(%\))?/);
    assert.match(nodesTop.stdout, /^pib\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/m);
    const podsTop = await waitFor('top pods shows talker', async () => {
      const run = await runKubectl(['--kubeconfig', viaPeer, 'top', 'pods']);
      return run.code === 0 && /^talker\s/m.test(run.stdout) ? run : null;
    }, 30_000);
    assert.match(podsTop.stdout, /^talker\s+\d+m\s+\d+Mi/m);
    const containers = await runKubectl(['--kubeconfig', onNode, 'top', 'pod', 'talker', '--containers']);
    assert.match(containers.stdout, /^talker\s+main\s+\d+m\s+\d+Mi/m, containers.stderr);
  });

  // `script` gives kubectl a terminal of its own (30 rows, 100 columns), so it asks for a TTY and
  // sends that size as its first resize message, which the API waits for before starting the exec.
  const inTerminal = (remote: string): Promise<KubectlRun> =>
    new Promise<KubectlRun>((resolve) => {
      execFile('script', ['-qec', `stty cols 100 rows 30; ${KUBECTL} --kubeconfig ${onNode} exec -it talker -- ${remote}`, '/dev/null'], { timeout: 60_000, env: { ...process.env, HOME: '/nonexistent' } }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  test('exec -it gives the process a terminal of the size of kubectl\'s', async () => {
    const tty = await inTerminal('tty');
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /\/dev\/pts\/\d+/);
    // Docker 20.10 (this host, and Debian 12 on the Pis) takes no size at exec start: the agent
    // applies kubectl's size just after the process starts (~50 ms), so the process looks a few
    // times (bounded). busybox `stty size` on an unsized terminal exits 0 with nothing on stdout
    // (its complaint goes to stderr): an empty answer means "not yet", never a size.
    const sized = await inTerminal(`sh -c 'i=0; while :; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i+1)); [ $i -ge 50 ] && break; sleep 0.1; done; echo "size $s"'`);
    assert.equal(sized.code, 0, sized.stdout + sized.stderr);
    assert.match(sized.stdout, /size 30 100/, sized.stdout + sized.stderr);
  });

  test('exec -it: the size is there when the process starts (engines with ConsoleSize, Docker API 1.42+)', async (t) => {
    const api = await new Promise<string>((resolve) => execFile('docker', ['version', '--format', '{{.Server.APIVersion}}'], (error, stdout) => resolve(error ? '' : stdout.trim())));
    const [major = 0, minor = 0] = api.split('.').map(Number);
    if (major === 1 && minor < 42) {
      t.skip(`the engine speaks API ${api}: exec start takes no ConsoleSize before 1.42 (Docker 23), the size lands just after the start (previous test)`);
      return;
    }
    const run = await inTerminal('stty size');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^30 100\r?$/m, run.stdout + run.stderr);
  });

  test('logs --previous shows the attempt before the restart', async () => {
    const client = adminClient(nodes[1]!.dataDir);
    await waitFor('crasher restarted', async () => {
      const p = (await client.get(PODS, 'default', 'crasher')) as { status?: { containerStatuses?: Array<{ restartCount: number }> } };
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    }, 60_000);
    const previous = await runKubectl(['--kubeconfig', viaPeer, 'logs', 'crasher', '--previous']);
    assert.deepEqual([previous.code, previous.stdout], [0, 'attempt-output\n'], previous.stderr);
    const none = await runKubectl(['--kubeconfig', viaPeer, 'logs', 'talker', '--previous']);
    assert.match(none.stderr, /previous terminated container "main" in pod "talker" not found/);
  });

  test('a node that does not answer: a clear 503 naming it', async () => {
    await nodes[2]!.kill('SIGKILL');
    // pic may have led the Raft group: reads wait for the new leader ("outcome unknown" meanwhile).
    const run = await waitFor('an answer after the election', async () => {
      const r = await runKubectl(['--kubeconfig', viaPeer, 'logs', 'parked']);
      return /InternalError/.test(r.stderr) ? null : r;
    }, 30_000);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /node pic \(127\.0\.0\.1:\d+\) does not answer/);
  });
});
