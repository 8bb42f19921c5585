import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ProcessGroup, withProcesses } from '../../lib/processes.ts';
import { readGreeting } from '../../lib/tcp.ts';

const countingServer = resolve(import.meta.dirname, '..', '..', 'fixtures', 'counting-server.mjs');
const serverSpec = {
  portNames: ['main'],
  command: [process.execPath, countingServer],
  args: ({ ports, dataDir }: { ports: Record<string, number>; dataDir: string }) => [String(ports.main), dataDir],
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('process harness', () => {
  test('spawns N processes with distinct free ports and data dirs, kill -9 and restart keep both', async () => {
    await withProcesses(async (group) => {
      const servers = await group.spawnMany(3, 'node', serverSpec);
      const ports = servers.map((server) => server.ports.main);
      assert.equal(new Set(ports).size, 3, 'each process has its own port');
      assert.equal(new Set(servers.map((server) => server.dataDir)).size, 3, 'each process has its own data dir');
      for (const server of servers) await server.waitForLog(/listening on .* start=1/);
      for (const server of servers) assert.match(await readGreeting('127.0.0.1', server.ports.main!), /^start=1 /);

      const victim = servers[1]!;
      const oldPid = victim.pid!;
      const status = await victim.kill();
      assert.equal(status.signal, 'SIGKILL');
      assert.equal(isAlive(oldPid), false);
      await assert.rejects(readGreeting('127.0.0.1', victim.ports.main!), /ECONNREFUSED/);

      victim.start();
      assert.match(await victim.waitForLog(/listening on/), /start=2/, 'the earlier start\'s "listening" line does not answer for this one');
      const greeting = await readGreeting('127.0.0.1', victim.ports.main!);
      assert.match(greeting, /^start=2 /, 'the restarted process found its data dir');
      assert.notEqual(victim.pid, oldPid);

      await servers[0]!.restart();
      await servers[0]!.waitForLog(/start=2/);
      assert.match(await readGreeting('127.0.0.1', servers[0]!.ports.main!), /^start=2 /);
    });
  });

  test('stop sends SIGTERM and the process exits cleanly', async () => {
    await withProcesses(async (group) => {
      const server = await group.spawn('graceful', serverSpec);
      await server.waitForLog(/listening/);
      const status = await server.stop();
      assert.deepEqual(status, { code: 0, signal: null });
      assert.ok(server.log.some((line) => line === 'got SIGTERM, exiting'));
    });
  });

  test('a failing test prints the logs, and every process and data dir is removed', async () => {
    let pids: number[] = [];
    let dataDirs: string[] = [];
    const printed: string[] = [];
    const originalError = console.error;
    console.error = (...parts: unknown[]) => printed.push(parts.join(' '));
    try {
      await assert.rejects(
        withProcesses(async (group) => {
          const servers = await group.spawnMany(2, 'doomed', serverSpec);
          for (const server of servers) await server.waitForLog(/listening/);
          pids = servers.map((server) => server.pid!);
          dataDirs = servers.map((server) => server.dataDir);
          throw new Error('deliberate failure');
        }),
        /deliberate failure/,
      );
    } finally {
      console.error = originalError;
    }
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} was killed`);
    for (const dir of dataDirs) assert.equal(existsSync(dir), false, `${dir} was removed`);
    const output = printed.join('\n');
    assert.match(output, /\[doomed1\] listening on 127\.0\.0\.1:\d+ start=1/);
    assert.match(output, /\[doomed2\] listening on/);
  });

  test('waitForLog times out with a message naming the process and the pattern', async () => {
    const group = new ProcessGroup();
    try {
      const server = await group.spawn('quiet', serverSpec);
      await assert.rejects(server.waitForLog(/never printed/, 300), /quiet: no log line matching \/never printed\/ within 300 ms/);
    } finally {
      await group.cleanup();
    }
  });
});
