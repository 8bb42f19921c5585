import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { main } from '../../../../src/cli/main.ts';
import { lineSplitter, targets } from '../../../../src/cli/kube/verbs/common.ts';
import { runPod } from '../../../../src/cli/kube/verbs/run.ts';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'bramble', ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  process.exitCode = undefined;
  return { code, out, err };
}

describe('bramble run builds the pod kubectl run builds', () => {
  test('image, run=<name> label, args after --, env, port, restart policy', () => {
    assert.deepEqual(runPod('hello', ['echo', 'hi'], { image: 'busybox', env: ['MODE=prod', 'EMPTY='], port: 8080, restart: 'Never' }), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hello', labels: { run: 'hello' } },
      spec: {
        containers: [{ name: 'hello', image: 'busybox', args: ['echo', 'hi'], env: [{ name: 'MODE', value: 'prod' }, { name: 'EMPTY', value: '' }], ports: [{ containerPort: 8080 }] }],
        restartPolicy: 'Never',
      },
    });
  });

  test('--command makes them the command; --labels replaces run=', () => {
    const pod = runPod('shell', ['sh', '-c', 'sleep 1'], { image: 'busybox', env: [], restart: 'Always', command: true, labels: 'app=shell,tier=debug' });
    assert.deepEqual((pod['spec'] as { containers: { command: string[] }[] }).containers[0]?.command, ['sh', '-c', 'sleep 1']);
    assert.deepEqual(pod.metadata.labels, { app: 'shell', tier: 'debug' });
  });

  test('--dry-run=client -o yaml through the real command line, no server needed', async () => {
    const r = await cli('run', 'web', '--image', 'nginx:1.27', '--port', '80', '--dry-run=client', '-o', 'yaml');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(parse(r.out), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { run: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }], restartPolicy: 'Always' } });
  });

  test('usage mistakes exit 2 with what to write', async () => {
    const env = await cli('run', 'x', '--image', 'busybox', '--env', 'NOEQUALS', '--dry-run=client');
    assert.deepEqual([env.code, env.err], [2, 'error: --env "NOEQUALS": use KEY=VALUE\n']);
    const replicas = await cli('scale', 'deploy/web', '--replicas', 'three', '--server', 'https://127.0.0.1:1');
    assert.equal(replicas.code, 2);
    assert.match(replicas.err, /"three" is not a whole number/);
    const notScalable = await cli('scale', 'pod/web', '--replicas', '2', '--server', 'https://127.0.0.1:1');
    assert.deepEqual([notScalable.code, notScalable.err], [2, 'error: pods cannot be scaled (deployments and replicasets can)\n']);
    const restart = await cli('run', 'x', '--image', 'busybox', '--restart', 'Sometimes');
    assert.equal(restart.code, 2);
    assert.match(restart.err, /Allowed choices are Always, OnFailure, Never/);
  });
});

describe('watch streams', () => {
  test('newline-delimited events are rebuilt from arbitrary pieces', () => {
    const lines: string[] = [];
    const feed = lineSplitter((l) => lines.push(l));
    for (const piece of ['{"type":"ADD', 'ED"}\n{"type":"MODI', 'FIED"}\n', '\n', '{"type":"DELETED"}', '\n']) feed(piece);
    assert.deepEqual(lines, ['{"type":"ADDED"}', '{"type":"MODIFIED"}', '{"type":"DELETED"}']);
  });
});

describe('what the verbs act on', () => {
  const show = (args: string[]): string[] => targets(args).map((t) => `${t.info.resource}${t.info.group === '' ? '' : `.${t.info.group}`}:${t.names.join(' ')}`);

  test('TYPE NAMES, TYPE/NAME pairs, comma lists, the "all" category', () => {
    assert.deepEqual(show(['po', 'web', 'db']), ['pods:web db']);
    assert.deepEqual(show(['deploy/web', 'svc/web']), ['deployments.apps:web', 'services:web']);
    assert.deepEqual(show(['deploy,svc']), ['deployments.apps:', 'services:']);
    assert.deepEqual(show(['all']), ['pods:', 'services:', 'deployments.apps:', 'replicasets.apps:', 'daemonsets.apps:', 'jobs.batch:']);
  });

  test('mistakes', () => {
    assert.throws(() => targets([]), /say what to act on/);
    assert.throws(() => targets(['frobs']), /the server doesn't have a resource type "frobs"/);
    assert.throws(() => targets(['pod/web', 'db']), /use TYPE\/NAME for every argument/);
  });
});
