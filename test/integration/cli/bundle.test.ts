// The cluster bundle end to end with real processes: `bramble cluster init`, `bramble token`, two
// `bramble up --bundle` nodes whose APIs trust the same CA and read each other's Secrets (real
// kubectl with the bundle's kubeconfig), a lone `bramble up` making its own bundle, and the
// mistakes a user can make with bundles and tokens.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { certificateFingerprint, issuedBy } from '../../../src/identity/certs.ts';
import { parseJoinToken } from '../../../src/identity/token.ts';
import { bramble, type CommandRun } from '../../lib/commands.ts';
import { kubectl, type KubectlRun } from '../../lib/kubectl.ts';
import { freePort } from '../../lib/ports.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-bundle-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The CLI run from the scratch directory, so nothing it writes lands in the repository. */
const cli = (...args: string[]): Promise<CommandRun> => bramble(args, { cwd: tmp, env: { HOME: '/nonexistent' } });

describe('cluster bundle', { timeout: 240_000 }, () => {
  const bundle = join(tmp, 'cluster');
  let token = '';

  test('cluster init writes CA, token pinning the CA, Secret keys and an admin kubeconfig; token prints it again; a second init refuses', async () => {
    const init = await cli('cluster', 'init', '--out', bundle);
    assert.equal(init.code, 0, init.stderr);
    token = init.stdout.trim();
    const parsed = parseJoinToken(token);
    const ca = readFileSync(join(bundle, 'ca.crt'), 'utf8');
    assert.equal(parsed.caFingerprint, certificateFingerprint(ca));
    assert.deepEqual(JSON.parse(readFileSync(join(bundle, 'cluster.json'), 'utf8')), { clusterId: parsed.caFingerprint.slice(0, 16), caFingerprint: parsed.caFingerprint });
    assert.match(init.stderr, new RegExp(`cluster ${parsed.clusterId}`));
    for (const secret of ['ca.key', 'token', 'encryption-keys.json', 'admin.key', 'kubeconfig']) assert.equal(statSync(join(bundle, secret)).mode & 0o777, 0o600, `${secret} is 0600`);
    assert.ok(issuedBy(readFileSync(join(bundle, 'admin.crt'), 'utf8'), ca));

    const again = await cli('token', '--bundle', bundle);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), token);

    const second = await cli('cluster', 'init', '--out', bundle);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already holds a cluster CA/);
    assert.equal(readFileSync(join(bundle, 'token'), 'utf8').trim(), token, 'the bundle is untouched');
  });

  test('two nodes with the bundle: one CA for both APIs, a Secret written on one is read on the other', async () => {
    await withProcesses(async (group) => {
      const ports = { a: { peer: await freePort(), client: await freePort(), api: await freePort() }, b: { peer: await freePort(), client: await freePort(), api: await freePort() } };
      const initial = `a=127.0.0.1:${ports.a.peer},b=127.0.0.1:${ports.b.peer}`;
      const nodes = await Promise.all(
        (['a', 'b'] as const).map((name) =>
          group.spawn(name, {
            args: ({ dataDir }) => ['up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports[name].peer}`, '--client-addr', `127.0.0.1:${ports[name].client}`, '--api-addr', `127.0.0.1:${ports[name].api}`, '--initial-cluster', initial, '--bundle', bundle, '--tick-ms', '20'],
          }),
        ),
      );
      await Promise.all(nodes.map((node) => node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS)));
      const clusterId = parseJoinToken(token).clusterId;
      for (const node of nodes) assert.ok(node.log.some((line) => line.includes(`"clusterId":"${clusterId}"`)), `${node.name} says which cluster it is in`);
      const kubeconfig = join(bundle, 'kubeconfig');
      const kubectlAt = (api: number, args: string[], input?: string): Promise<KubectlRun> => kubectl(kubeconfig, ['--server', `https://127.0.0.1:${api}`, ...args], input);
      const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: wifi\nstringData:\n  password: hunter2\n';
      const created = await kubectlAt(ports.a.api, ['create', '-f', '-'], secret);
      assert.equal(created.code, 0, created.stderr);
      let read: KubectlRun | undefined;
      for (let attempt = 0; attempt < 50; attempt++) {
        read = await kubectlAt(ports.b.api, ['get', 'secret', 'wifi', '-o', 'jsonpath={.data.password}']);
        if (read.code === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(read?.code, 0, read?.stderr);
      assert.equal(Buffer.from(read!.stdout, 'base64').toString(), 'hunter2');
      const listed = await kubectlAt(ports.b.api, ['get', 'nodes', '-o', 'name']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['node/a', 'node/b']);
      for (const node of nodes) assert.equal(readFileSync(join(node.dataDir, 'pki', 'ca.crt'), 'utf8'), readFileSync(join(bundle, 'ca.crt'), 'utf8'));
    });
  });

  test('a lone bramble up makes its own bundle in <data-dir>/bundle, keeps it across restarts, and bramble token prints it', async () => {
    await withProcesses(async (group) => {
      const node = await group.spawn('solo', {
        portNames: ['peer', 'client'],
        args: ({ ports, dataDir }) => ['up', '--name', 'solo', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--api-addr', 'off'],
      });
      await node.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
      const printed = await cli('token', '--data-dir', node.dataDir);
      assert.equal(printed.code, 0, printed.stderr);
      const own = parseJoinToken(printed.stdout);
      assert.equal(own.caFingerprint, certificateFingerprint(readFileSync(join(node.dataDir, 'bundle', 'ca.crt'), 'utf8')));
      assert.ok(issuedBy(readFileSync(join(node.dataDir, 'bundle', 'node.crt'), 'utf8'), readFileSync(join(node.dataDir, 'bundle', 'ca.crt'), 'utf8')));
      await node.restart('SIGTERM');
      await node.waitForLog(/--- start #2/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await waitForSecondReady(node.log);
      const after = await cli('token', '--data-dir', node.dataDir);
      assert.equal(after.stdout.trim(), printed.stdout.trim(), 'the same cluster after a restart');
      await node.stop();

      const other = await cli('up', '--name', 'solo', '--data-dir', node.dataDir, '--bundle', bundle, '--api-addr', 'off');
      assert.equal(other.code, 2);
      assert.match(other.stderr, /belongs to cluster [0-9a-f]{16}, but --bundle .* is cluster [0-9a-f]{16}: a node cannot change clusters/);
    });
  });

  test('mistakes with bundles and tokens exit 2 with what to do', async () => {
    const missing = await cli('up', '--name', 'x', '--data-dir', join(tmp, 'x'), '--bundle', join(tmp, 'nowhere'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--bundle: cluster bundle .*nowhere: does not exist; create one with `bramble cluster init --out DIR`/);

    const noBundle = await cli('up', '--name', 'a', '--data-dir', join(tmp, 'y'), '--initial-cluster', 'a=127.0.0.1:7380,b=127.0.0.1:7381');
    assert.equal(noBundle.code, 2);
    assert.match(noBundle.stderr, /needs the same cluster bundle on each/);

    const joinBare = await cli('up', '--name', 'j', '--data-dir', join(tmp, 'z'), '--join', '127.0.0.1:7379');
    assert.equal(joinBare.code, 2);
    assert.match(joinBare.stderr, /--join needs the cluster credentials: --token TOKEN/);

    const badToken = await cli('up', '--name', 'j', '--token', 'BRAMBLE-1-abc-def', '--join', '127.0.0.1:7379');
    assert.equal(badToken.code, 2);
    assert.match(badToken.stderr, /--token: the join token is not of the form BRAMBLE-1-<64 hex digits>-<32 hex digits> \(it looks cut short or altered\)/);

    const both = await cli('up', '--name', 'j', '--token', token, '--bundle', bundle, '--join', '127.0.0.1:7379');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--bundle and --token exclude each other/);

    const noData = await cli('token', '--data-dir', join(tmp, 'never'));
    assert.equal(noData.code, 2);
    assert.match(noData.stderr, /no Bramble node data in/);
  });
});

async function waitForSecondReady(log: string[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const start = log.findIndex((line) => line.startsWith('--- start #2'));
    if (start >= 0 && log.slice(start).some((line) => line.includes('bramble node ready'))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the restarted node did not become ready');
}
