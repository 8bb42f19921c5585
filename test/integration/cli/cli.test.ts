import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { bramble, runCommand, type CommandRun } from '../../lib/commands.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';

const projectDir = resolve(import.meta.dirname, '..', '..', '..');

/** The CLI run from the project directory, as a user of the repository would. */
const cli = (...args: string[]): Promise<CommandRun> => bramble(args, { cwd: projectDir });

describe('bramble CLI', () => {
  test('--help teaches the commands and exits 0', async () => {
    const { code, stdout } = await cli('--help');
    assert.equal(code, 0);
    assert.match(stdout, /Usage: bramble/);
    assert.match(stdout, /version .*print the Bramble version/s);
    assert.match(stdout, /up .*run a Bramble node/s);
  });

  test('version prints version, git commit, Node version, arch and that it is not the single executable', async () => {
    const { code, stdout } = await cli('version');
    assert.equal(code, 0);
    const pkg = JSON.parse(readFileSync(resolve(projectDir, 'package.json'), 'utf8')) as { version: string };
    assert.match(stdout, new RegExp(`^bramble ${pkg.version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(stdout, /^git commit: [0-9a-f]{40}(-dirty)?$/m);
    assert.match(stdout, new RegExp(`^node: ${process.version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(stdout, new RegExp(`^platform: linux/${process.arch}$`, 'm'));
    assert.match(stdout, /^single executable: no$/m);
  });

  test('version -o json and -o yaml are machine-readable', async () => {
    const json = await cli('version', '-o', 'json');
    assert.equal(json.code, 0);
    const info = JSON.parse(json.stdout) as Record<string, string>;
    assert.equal(info.arch, process.arch);
    assert.equal(info.nodeVersion, process.version);
    const yaml = await cli('version', '--output', 'yaml');
    assert.match(yaml.stdout, new RegExp(`^arch: ${process.arch}$`, 'm'));
  });

  test('an unknown command exits 2 with a suggestion and a pointer to --help', async () => {
    const { code, stderr, stdout } = await cli('verison');
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /unknown command 'verison'/);
    assert.match(stderr, /Did you mean version\?/);
    assert.match(stderr, /bramble --help/);
  });

  test('an unknown flag exits 2', async () => {
    const { code, stderr } = await cli('version', '--frobnicate');
    assert.equal(code, 2);
    assert.match(stderr, /unknown option '--frobnicate'/);
  });

  test('an unknown output format exits 2 and lists the formats', async () => {
    const { code, stderr } = await cli('version', '-o', 'xml');
    assert.equal(code, 2);
    assert.match(stderr, /unknown output format "xml": use one of json, yaml/);
  });

  test('up --help teaches the flags with examples', async () => {
    const { code, stdout } = await cli('up', '--help');
    assert.equal(code, 0);
    for (const flag of ['--name', '--data-dir', '--peer-addr', '--client-addr', '--initial-cluster', '--join']) assert.match(stdout, new RegExp(flag));
    assert.match(stdout, /Examples:/);
  });

  test('up with contradictory flags exits 2 and says what to do', async () => {
    const { code, stderr } = await cli('up', '--name', 'a', '--initial-cluster', 'b=127.0.0.1:7380');
    assert.equal(code, 2);
    assert.match(stderr, /--initial-cluster must include this node \("a"\)/);
  });

  test('up runs a node until SIGTERM, then stops cleanly with exit code 0', async () => {
    await withProcesses(async (group) => {
      const node = await group.spawn('solo', {
        portNames: ['peer', 'client'],
        args: ({ ports, dataDir }) => ['up', '--pod-network', 'off', '--name', 'solo', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`],
      });
      await node.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
      await node.waitForLog(/leader elected/, STARTUP_TIMEOUT_MS);
      const status = await node.stop();
      assert.deepEqual(status, { code: 0, signal: null });
      assert.ok(node.log.some((line) => line.includes('"msg":"stopped"')));
    });
  });

  test('cluster status prints one line per endpoint, and says which are unreachable', async () => {
    await withProcesses(async (group) => {
      const node = await group.spawn('solo', {
        portNames: ['peer', 'client', 'unused'],
        args: ({ ports, dataDir }) => ['up', '--pod-network', 'off', '--name', 'solo', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`],
      });
      await node.waitForLog(/leader elected/, STARTUP_TIMEOUT_MS);
      const { code, stdout } = await cli('cluster', 'status', '--data-dir', node.dataDir, '--endpoints', `127.0.0.1:${node.ports.client},127.0.0.1:${node.ports.unused}`);
      assert.equal(code, 0);
      const lines = stdout.trim().split('\n');
      assert.match(lines[0]!, /^ENDPOINT\s+NAME\s+ROLE\s+TERM\s+LEADER\s+COMMIT\s+APPLIED/);
      assert.match(lines[1]!, /solo\s+leader\s+\d+\s+solo/);
      assert.match(lines[2]!, /unreachable/);
      const json = JSON.parse((await cli('cluster', 'status', '--data-dir', node.dataDir, '--endpoints', `127.0.0.1:${node.ports.client}`, '-o', 'json')).stdout) as { status: { role: string } }[];
      assert.equal(json[0]!.status.role, 'leader');
    });
  });

  test('npx bramble runs the project binary', async () => {
    const result = await runCommand('npx', ['--no-install', 'bramble', 'version', '-o', 'json'], { cwd: projectDir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { arch: string }).arch, process.arch);
  });
});
