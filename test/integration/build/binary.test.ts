// The single executable (issue 19) as a board runs it: copied out of dist/ into a scratch
// directory with no node_modules above it, started with no NODE_OPTIONS/NODE_PATH and no
// node_modules on PATH. It reports itself, refuses damaged copies before writing anything, and
// three of them form a cluster that real kubectl talks to and that runs a pod on Docker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NODE_VERSION } from '../../../scripts/build/targets.ts';
import { controlArgs, startControlCluster } from '../../lib/control-cluster.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { kubectlOk } from '../../lib/kubectl.ts';
import { STARTUP_TIMEOUT_MS, withProcesses } from '../../lib/processes.ts';
import { bareEnv, freshExecutable, projectDir } from '../../lib/single-executable.ts';
import { waitFor } from '../../lib/wait.ts';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `file` to its end from `cwd` in the bare environment; the signal too, when it died of one. */
function run(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'bramble-binary-'));
const executable = join(scratch, 'bramble');
const cacheDir = join(scratch, 'addon-cache');
const env = bareEnv({ BRAMBLE_CACHE_DIR: cacheDir });
const pkg = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { version: string };

/** A copy of the executable in the scratch dir, changed by `damage`. */
function damagedCopy(name: string, damage: (file: string) => void): string {
  const file = join(scratch, name);
  copyFileSync(executable, file);
  damage(file);
  return file;
}

/** Flips one bit of the first byte of `needle` in `file`. */
function flipAt(file: string, needle: Buffer): void {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(needle);
  assert.ok(at >= 0, `${file} does not contain the bytes to damage`);
  bytes[at] = bytes[at]! ^ 1;
  writeFileSync(file, bytes);
}

const arm64Executable = join(scratch, 'bramble-arm64');

before(async () => {
  copyFileSync(await freshExecutable('linux-x64'), executable);
  copyFileSync(await freshExecutable('linux-arm64'), arm64Executable);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the linux-x64 single executable', { skip: process.arch !== 'x64' ? 'the x64 executable runs on x64' : false }, () => {
  test('version says version, commit, Node, platform, and that it is the single executable', async () => {
    const text = await run(executable, ['version'], scratch, env);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stderr, '');
    assert.match(text.stdout, new RegExp(`^bramble ${pkg.version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(text.stdout, /^git commit: [0-9a-f]{40}(-dirty)?$/m);
    assert.match(text.stdout, new RegExp(`^node: v${NODE_VERSION.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(text.stdout, /^platform: linux\/x64$/m);
    assert.match(text.stdout, /^single executable: yes$/m);
    const json = JSON.parse((await run(executable, ['version', '-o', 'json'], scratch, env)).stdout) as Record<string, unknown>;
    assert.deepEqual({ ...json, gitCommit: typeof json.gitCommit }, { version: pkg.version, gitCommit: 'string', nodeVersion: `v${NODE_VERSION}`, platform: 'linux', arch: 'x64', singleExecutable: true });
    assert.equal(existsSync(cacheDir), false, 'version loads no addon');
  });

  test('a damaged copy refuses to start with a clear message and writes nothing', async () => {
    const bundleText = Buffer.from('members, roles, term, commit and applied index, leader');
    const addon = readFileSync(join(projectDir, 'node_modules/classic-level/prebuilds/linux-x64/classic-level.node'));
    const cases: { name: string; damage: (file: string) => void; says: RegExp }[] = [
      { name: 'cut-1-byte', damage: (file) => truncateSync(file, readFileSync(file).length - 1), says: /this executable is damaged \(.*cut-1-byte has (\d+) bytes, the build wrote \d+\); it did not start/ },
      { name: 'cut-1-mb', damage: (file) => truncateSync(file, readFileSync(file).length - 1_000_000), says: /this executable is damaged \(.* has \d+ bytes, the build wrote \d+\)/ },
      { name: 'bundle-bit', damage: (file) => flipAt(file, bundleText), says: /this executable is damaged \(its JavaScript has sha256 [0-9a-f]{64}, the build recorded [0-9a-f]{64}\)/ },
      { name: 'addon-bit', damage: (file) => flipAt(file, addon.subarray(100_000, 100_064)), says: /this bramble executable is damaged: its classic-level addon has sha256 [0-9a-f]{64}, the build recorded [0-9a-f]{64}/ },
    ];
    for (const { name, damage, says } of cases) {
      const copy = damagedCopy(name, damage);
      const dataDir = join(scratch, `data-${name}`);
      const outcome = await run(copy, ['up', '--name', 'damaged', '--data-dir', dataDir, '--api-addr', 'off', '--runtime', 'none', '--peer-addr', '127.0.0.1:1', '--client-addr', '127.0.0.1:1'], scratch, env);
      assert.equal(outcome.code, 1, `${name}: ${outcome.stderr}`);
      assert.match(outcome.stderr, says, name);
      assert.equal(outcome.stdout, '', name);
      assert.equal(existsSync(dataDir), false, `${name} wrote its data dir`);
      assert.equal(existsSync(cacheDir), false, `${name} wrote the addon cache`);
    }
    // Cut deeper than the blob, Node dies touching the missing pages before any JavaScript runs.
    const deep = damagedCopy('cut-10-mb', (file) => truncateSync(file, readFileSync(file).length - 10_000_000));
    const dataDir = join(scratch, 'data-cut-10-mb');
    const outcome = await run(deep, ['up', '--name', 'damaged', '--data-dir', dataDir, '--api-addr', 'off', '--runtime', 'none'], scratch, env);
    assert.notEqual(outcome.code, 0, 'a copy cut by 10 MB does not run');
    assert.equal(existsSync(dataDir), false, 'a copy cut by 10 MB wrote its data dir');
  });

  test('three copies form a cluster that serves kubectl get nodes and runs a pod on Docker, with no node_modules loaded', async () => {
    await withProcesses(async (group) => {
      const names = ['bin1', 'bin2', 'bin3'];
      const nodes = await startControlCluster(group, names, 2000, controlArgs(), { command: [executable], cwd: scratch, env });
      const kubeconfig = join(nodes[0]!.process.dataDir, 'kubeconfig');
      const list = JSON.parse(await kubectlOk(kubeconfig, ['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] };
      assert.deepEqual(list.items.map((node) => node.metadata.name).sort(), names);
      for (const node of list.items) assert.ok(node.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'), `${node.metadata.name} is Ready`);
      assert.match(await kubectlOk(kubeconfig, ['get', 'nodes']), /^bin1\s+Ready\s/m);

      for (const node of nodes) {
        const pid = node.process.pid!;
        assert.equal(readlinkSync(`/proc/${pid}/exe`), executable, `${node.name} runs the copied executable`);
        const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
        assert.doesNotMatch(maps, /node_modules/, `${node.name} mapped a file from node_modules`);
        assert.match(maps, new RegExp(`${cacheDir}/classic-level-[0-9a-f]{64}\\.node`), `${node.name} loaded LevelDB from the addon cache`);
      }

      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'from-binary', namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: SLEEPER_COMMAND }] } };
      await kubectlOk(kubeconfig, ['apply', '-f', '-'], JSON.stringify(pod));
      await waitFor('the pod Running', async () => ((await kubectlOk(kubeconfig, ['get', 'pod', 'from-binary', '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : null), 120_000, 500);
      await kubectlOk(kubeconfig, ['delete', 'pod', 'from-binary', '--wait=false']);
    });
  });
});

// The arm64 executable runs under qemu-user (test-host.sh registers it with binfmt_misc), with the
// arm64 glibc and libstdc++ the test host installs: it was made by postject on this x64 host, which
// is where the LevelDB addon would break if the injection damaged the ELF (issue 19's trap).
describe('the linux-arm64 single executable under qemu', () => {
  test('version says linux/arm64 and single executable, and a store-only node opens LevelDB and is ready', async () => {
    const text = await run(arm64Executable, ['version'], scratch, env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^platform: linux\/arm64$/m);
    assert.match(text.stdout, /^single executable: yes$/m);
    assert.match(text.stdout, new RegExp(`^node: v${NODE_VERSION.replaceAll('.', '\\.')}$`, 'm'));
    await withProcesses(async (group) => {
      const node = await group.spawn('arm64', {
        command: [arm64Executable],
        cwd: scratch,
        env: bareEnv({ BRAMBLE_CACHE_DIR: join(scratch, 'arm64-addon-cache') }),
        portNames: ['peer', 'client'],
        args: ({ ports, dataDir }) => ['up', '--name', 'arm64', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--initial-cluster', `arm64=127.0.0.1:${ports['peer']}`, '--api-addr', 'off', '--runtime', 'none', '--pod-network', 'off'],
      });
      await node.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
      await node.waitForLog(/leader elected/, STARTUP_TIMEOUT_MS);
      assert.match(readFileSync(`/proc/${node.pid!}/maps`, 'utf8'), /arm64-addon-cache\/classic-level-[0-9a-f]{64}\.node/, 'LevelDB loaded from the addon cache');
    });
  });
});
