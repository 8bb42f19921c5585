// A real `bramble up` process meets a promise rejection nobody handles (planted through a
// preloaded module, on SIGUSR2): Node 20 would end the process silently; `bramble up` logs it at
// error with its stack and keeps serving (src/cli/up-rejections.ts), and still stops cleanly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoreClient } from '../../../src/store/client.ts';
import { clientTls } from '../../lib/bramble-cluster.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const enc = new TextEncoder();
const fixture = join(import.meta.dirname, 'fixtures', 'reject-on-signal.mjs');

test('bramble up logs an unhandled rejection with its stack and keeps serving', { timeout: 120_000 }, async () => {
  await withProcesses(async (group) => {
    const node = await group.spawn('solo', {
      portNames: ['peer', 'client'],
      args: ({ ports, dataDir }) => ['up', '--name', 'solo', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--api-addr', 'off'],
      env: { NODE_OPTIONS: `--import ${fixture}` },
    });
    await node.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
    process.kill(node.pid!, 'SIGUSR2');
    const line = await node.waitForLog(/unhandled promise rejection/, 30_000);
    const entry = JSON.parse(line) as { level: number; origin: string; err: { message: string; stack: string } };
    assert.equal(entry.level, 50, 'logged at error');
    assert.equal(entry.origin, 'unhandledRejection');
    assert.match(entry.err.message, /planted by the test/);
    assert.match(entry.err.stack, /reject-on-signal\.mjs/, 'the stack names where the rejection came from');

    // Still serving: the store answers a write and a read after the rejection.
    const client = new StoreClient({ endpoints: [`127.0.0.1:${node.ports['client']}`], timeoutMs: 10_000, tls: clientTls(node.dataDir) });
    try {
      await waitFor('the store answers', async () => {
        try {
          await client.put(enc.encode('after-rejection'), enc.encode('still here'));
          const value = await client.get(enc.encode('after-rejection'));
          return value !== null && new TextDecoder().decode(value) === 'still here' ? true : undefined;
        } catch {
          return undefined;
        }
      }, 30_000);
    } finally {
      client.close();
    }
    assert.equal(node.running, true);
    const exit = await node.stop(15_000);
    assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM still stops it cleanly');
  });
});
