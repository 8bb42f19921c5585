// freePort across processes: test files run as separate processes (and other checkouts run their
// suites at the same time), so a port handed to one must not be handed to another while it lives.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { claimPath, claimPort, freePort } from '../../lib/ports.ts';

const portsModule = resolve(import.meta.dirname, '..', '..', 'lib', 'ports.ts');

/** Runs `code` in a fresh Node process (with tsx) and returns its stdout once it exits. */
function runNode(code: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`child exited with ${code}`))));
  });
}

/** Starts `code` in a fresh Node process (with tsx): its first line of stdout, and its exit (code 0). */
function startNode(code: string): { process: ChildProcess; firstLine: Promise<string>; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const firstLine = new Promise<string>((resolvePromise, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolvePromise(out.slice(0, newline));
    });
    child.on('exit', (exitCode) => reject(new Error(`child exited with ${exitCode} before printing a line`)));
  });
  const exited = new Promise<void>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode) => (exitCode === 0 ? resolvePromise() : reject(new Error(`child exited with ${exitCode}`))));
  });
  return { process: child, firstLine, exited };
}

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolvePromise) => child.on('exit', resolvePromise));
  return child.pid!;
}

describe('freePort across processes', () => {
  test('four processes drawing 25 ports each at once get 100 different ports, released when they exit', async () => {
    // Each child holds its claims until every child has drawn (its stdin closes): uniqueness is
    // promised among live claimants, and a child that exited early rightly gives its ports back.
    const draw = `import { freePort } from ${JSON.stringify(portsModule)};
      const ports = [];
      for (let i = 0; i < 25; i++) ports.push(await freePort());
      console.log(JSON.stringify(ports));
      process.stdin.resume();
      await new Promise((done) => process.stdin.on('end', done));`;
    const children = [0, 1, 2, 3].map(() => startNode(draw));
    const outputs = await Promise.all(children.map((child) => child.firstLine));
    for (const child of children) child.process.stdin!.end();
    await Promise.all(children.map((child) => child.exited));
    const all = outputs.flatMap((out) => JSON.parse(out) as number[]);
    assert.equal(all.length, 100);
    assert.equal(new Set(all).size, 100, 'no port was handed to two live processes');
    const stillClaimed = all.filter((port) => existsSync(claimPath(port)));
    assert.deepEqual(stillClaimed, [], 'each process gave its claims back when it exited');
  });

  test('a port claimed by a live process is not handed out; a claim of a dead process is taken over', async () => {
    const mine = await freePort();
    assert.equal(readFileSync(claimPath(mine), 'utf8'), String(process.pid));
    // Another process may not claim it while this one lives.
    const other = await runNode(`import { claimPort } from ${JSON.stringify(portsModule)}; console.log(claimPort(${mine}));`);
    assert.equal(other.trim(), 'false');

    // A claim left by a process killed with -9 (its exit hook never ran).
    let stale = 0;
    for (let port = 64_000; port < 65_000 && stale === 0; port++) if (!existsSync(claimPath(port))) stale = port;
    const dead = await deadPid();
    writeFileSync(claimPath(stale), String(dead));
    assert.equal(claimPort(stale), true, `the claim of dead pid ${dead} is taken over`);
    assert.equal(readFileSync(claimPath(stale), 'utf8'), String(process.pid));
  });
});
