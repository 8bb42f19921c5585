import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { brambleBin } from '../../lib/processes.ts';

const projectDir = resolve(import.meta.dirname, '..', '..', '..');

function bramble(...args: string[]) {
  const result = spawnSync(process.execPath, [brambleBin, ...args], { encoding: 'utf8', cwd: projectDir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bramble CLI', () => {
  test('--help teaches the commands and exits 0', () => {
    const { code, stdout } = bramble('--help');
    assert.equal(code, 0);
    assert.match(stdout, /Usage: bramble/);
    assert.match(stdout, /version .*print the Bramble version/s);
    assert.match(stdout, /up .*run a Bramble node/s);
  });

  test('version prints version, git commit, Node version and arch', () => {
    const { code, stdout } = bramble('version');
    assert.equal(code, 0);
    const pkg = JSON.parse(readFileSync(resolve(projectDir, 'package.json'), 'utf8')) as { version: string };
    assert.match(stdout, new RegExp(`^bramble ${pkg.version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(stdout, /^git commit: [0-9a-f]{40}(-dirty)?$/m);
    assert.match(stdout, new RegExp(`^node: ${process.version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(stdout, new RegExp(`^platform: linux/${process.arch}$`, 'm'));
  });

  test('version -o json and -o yaml are machine-readable', () => {
    const json = bramble('version', '-o', 'json');
    assert.equal(json.code, 0);
    const info = JSON.parse(json.stdout) as Record<string, string>;
    assert.equal(info.arch, process.arch);
    assert.equal(info.nodeVersion, process.version);
    const yaml = bramble('version', '--output', 'yaml');
    assert.match(yaml.stdout, new RegExp(`^arch: ${process.arch}$`, 'm'));
  });

  test('an unknown command exits 2 with a suggestion and a pointer to --help', () => {
    const { code, stderr, stdout } = bramble('verison');
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /unknown command 'verison'/);
    assert.match(stderr, /Did you mean version\?/);
    assert.match(stderr, /bramble --help/);
  });

  test('an unknown flag exits 2', () => {
    const { code, stderr } = bramble('version', '--frobnicate');
    assert.equal(code, 2);
    assert.match(stderr, /unknown option '--frobnicate'/);
  });

  test('an unknown output format exits 2 and lists the formats', () => {
    const { code, stderr } = bramble('version', '-o', 'xml');
    assert.equal(code, 2);
    assert.match(stderr, /unknown output format "xml": use one of json, yaml/);
  });

  test('up says plainly that the node is not built yet and exits non-zero', () => {
    const { code, stderr } = bramble('up');
    assert.equal(code, 1);
    assert.match(stderr, /the node is not built yet/);
  });

  test('npx bramble runs the project binary', () => {
    const result = spawnSync('npx', ['--no-install', 'bramble', 'version', '-o', 'json'], { encoding: 'utf8', cwd: projectDir });
    assert.equal(result.status, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { arch: string }).arch, process.arch);
  });
});
