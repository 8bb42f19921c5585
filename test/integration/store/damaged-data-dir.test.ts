// A damaged data dir: `bramble up` must refuse to start, exit non-zero with a message that names
// the damaged directory and says what to do, and leave every file exactly as it found it.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { StoreClient } from '../../../src/store/client.ts';
import type { RangeResponse } from '../../../src/store/index.ts';
import { clientTls, joinBrambleNode, startBrambleCluster, statusOf, waitForLeader } from '../../lib/bramble-cluster.ts';
import { ProcessGroup, withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const text = (value: string) => Buffer.from(value);

/** Path -> SHA-256 of every file under dir (directories by their listing). */
function fingerprint(dir: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else result.set(relative(dir, full), createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return result;
}

function filesMatching(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile() && statSync(path).size > 0);
}

/**
 * A linearizable range on a node that just started: retried while it has no leader yet (503s,
 * refused connections), so the answer reflects everything committed before it, applied.
 */
async function rangeWhenLeaderElected(clientPort: number, dataDir: string, prefix: string, timeoutMs = 20_000): Promise<RangeResponse> {
  const client = new StoreClient({ endpoints: [`127.0.0.1:${clientPort}`], timeoutMs: 5_000, tls: clientTls(dataDir) });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        return await client.range({ prefix: text(prefix) });
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.close();
  }
}

let group: ProcessGroup;
/** A clean data dir of a stopped single-node cluster holding 300 keys; each test damages a copy. */
let pristine: string;
let workRoot: string;

before(async () => {
  group = new ProcessGroup();
  const [node] = await startBrambleCluster(group, 1, { extraArgs: ['--snapshot-entries', '100'] });
  await waitForLeader([node!]);
  const client = new StoreClient({ tls: node!.tls, endpoints: [node!.clientAddress] });
  for (let i = 0; i < 300; i++) await client.put(text(`/damage/${i}`), text(`value-${i}`));
  client.close();
  const exit = await node!.process.stop();
  assert.equal(exit.code, 0, 'the node stopped cleanly on SIGTERM');
  pristine = node!.process.dataDir;
  workRoot = await mkdtemp(join(tmpdir(), 'bramble-damage-'));
});

after(async () => {
  await group.cleanup();
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
});

let copies = 0;
async function damagedCopy(damage: (dataDir: string) => void): Promise<string> {
  const dataDir = join(workRoot, `copy${++copies}`);
  await cp(pristine, dataDir, { recursive: true });
  damage(dataDir);
  return dataDir;
}

/** Runs `bramble up` on the data dir; it must exit by itself (not be killed) within the timeout. */
async function upOn(dataDir: string, name: string): Promise<{ code: number | null; output: string }> {
  const process = await group.spawn(`${name}-up`, {
    portNames: ['peer', 'client'],
    args: ({ ports }) => ['up', '--pod-network', 'off', '--name', 'node1', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--log-level', 'warn'],
  });
  const timer = setTimeout(() => void process.kill('SIGKILL'), 30_000);
  const exit = await process.waitForExit();
  clearTimeout(timer);
  return { code: exit.code, output: process.log.join('\n') };
}

const cases: { name: string; damage: (dataDir: string) => void; names: (dataDir: string) => string; says: RegExp }[] = [
  {
    name: 'the Raft log LevelDB MANIFEST truncated',
    damage: (dataDir) => {
      for (const file of filesMatching(join(dataDir, 'raft', 'log'), /^MANIFEST-/)) truncateSync(file, 10);
    },
    names: (dataDir) => join(dataDir, 'raft'),
    says: /Raft log.*damaged.*LevelDB cannot open it/,
  },
  {
    name: 'the Raft log CURRENT file missing',
    damage: (dataDir) => unlinkSync(join(dataDir, 'raft', 'log', 'CURRENT')),
    names: (dataDir) => join(dataDir, 'raft'),
    says: /damaged/,
  },
  {
    name: 'a Raft snapshot file corrupted',
    damage: (dataDir) => {
      const [file] = filesMatching(join(dataDir, 'raft', 'snapshots'), /./);
      assert.ok(file, 'the node wrote a snapshot file');
      const bytes = readFileSync(file);
      const middle = bytes.length >> 1;
      bytes.writeUInt8(bytes[middle]! ^ 0xff, middle);
      writeFileSync(file, bytes);
    },
    names: (dataDir) => join(dataDir, 'raft'),
    says: /snapshot file .* does not match its checksum/,
  },
  {
    name: 'the Raft log LevelDB write-ahead log overwritten with garbage',
    damage: (dataDir) => {
      for (const file of filesMatching(join(dataDir, 'raft', 'log'), /\.log$/)) writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    },
    names: (dataDir) => join(dataDir, 'raft'),
    says: /Raft log.*damaged/,
  },
  {
    name: 'the Raft log marker file missing (a directory that is not a Bramble log)',
    damage: (dataDir) => unlinkSync(join(dataDir, 'raft', 'BRAMBLE-RAFT-LOG')),
    names: (dataDir) => join(dataDir, 'raft'),
    says: /not empty but has no BRAMBLE-RAFT-LOG marker/,
  },
  {
    name: 'the Raft log moved away, the store left behind',
    damage: (dataDir) => renameSync(join(dataDir, 'raft'), join(dataDir, 'raft-moved')),
    names: (dataDir) => join(dataDir, 'raft'),
    says: /Raft log .* is missing.*will not start a fresh log over it.*--join/,
  },
  {
    name: 'the store LevelDB MANIFEST truncated',
    damage: (dataDir) => {
      for (const file of filesMatching(join(dataDir, 'store'), /^MANIFEST-/)) truncateSync(file, 10);
    },
    names: (dataDir) => join(dataDir, 'store'),
    says: /LevelDB cannot open it/,
  },
  {
    name: 'the store LevelDB tables and logs overwritten with garbage',
    damage: (dataDir) => {
      for (const file of filesMatching(join(dataDir, 'store'), /\.(ldb|log)$/)) writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    },
    names: (dataDir) => join(dataDir, 'store'),
    says: /MVCC store.*damaged.*could not read part of its write-ahead log.*checksum mismatch/,
  },
  {
    name: 'the store LevelDB write-ahead log truncated to nothing',
    damage: (dataDir) => {
      for (const file of filesMatching(join(dataDir, 'store'), /\.log$/)) truncateSync(file, 0);
    },
    names: (dataDir) => join(dataDir, 'store'),
    says: /MVCC store.*damaged.*without any Bramble data/,
  },
  {
    name: 'members.json (the peer addresses) not JSON',
    damage: (dataDir) => writeFileSync(join(dataDir, 'members.json'), '{"node1": "127.0.0.1:'),
    names: (dataDir) => join(dataDir, 'members.json'),
    says: /is damaged.*Restore it, or move the data dir aside/,
  },
];

describe('bramble up on a damaged data dir', () => {
  for (const damageCase of cases) {
    test(`${damageCase.name}: exits non-zero naming the directory and what to do, files byte-for-byte unchanged`, async () => {
      const dataDir = await damagedCopy(damageCase.damage);
      const beforeUp = fingerprint(dataDir);
      const { code, output } = await upOn(dataDir, `case${copies}`);
      assert.notEqual(code, 0, `bramble up exited non-zero:\n${output}`);
      assert.notEqual(code, null, `bramble up exited by itself:\n${output}`);
      assert.ok(output.includes(damageCase.names(dataDir)), `the message names ${damageCase.names(dataDir)}:\n${output}`);
      assert.match(output, damageCase.says);
      assert.match(output, /move (the|it|the directory|the data dir)[^.]* aside|restore/i, 'the message says what to do');
      assert.deepEqual(fingerprint(dataDir), beforeUp, 'every file is byte-for-byte as before');
    });
  }

  test('a data dir in use by a running node: a second bramble up says so (not "damaged") and exits; the first keeps serving', async () => {
    const dataDir = await damagedCopy(() => undefined);
    const first = await group.spawn('in-use-first', {
      portNames: ['peer', 'client'],
      args: ({ ports }) => ['up', '--pod-network', 'off', '--name', 'node1', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--tick-ms', '20'],
    });
    await first.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
    const { code, output } = await upOn(dataDir, 'in-use-second');
    assert.equal(code, 1, `the second bramble up exited with 1:\n${output}`);
    assert.match(output, new RegExp(`${join(dataDir, 'raft').replaceAll('/', '\\/')} is in use by another process`));
    assert.match(output, /Is another bramble up running with this --data-dir/);
    assert.doesNotMatch(output, /damaged/);
    assert.ok(first.running, 'the first node still runs');
    try {
      assert.equal((await rangeWhenLeaderElected(first.ports.client!, dataDir, '/damage/')).count, 300);
    } finally {
      await first.stop();
    }
  });

  test('following the advice for a damaged store (moving store/ aside) the node starts and rebuilds it from the Raft log', async () => {
    const dataDir = await damagedCopy((dir) => {
      for (const file of filesMatching(join(dir, 'store'), /\.log$/)) writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    });
    const refused = await upOn(dataDir, 'advice-refused');
    assert.equal(refused.code, 1, refused.output);
    await rename(join(dataDir, 'store'), join(dataDir, 'store.damaged'));
    const process = await group.spawn('advice-followed', {
      portNames: ['peer', 'client'],
      args: ({ ports }) => ['up', '--pod-network', 'off', '--name', 'node1', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--tick-ms', '20'],
    });
    await process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
    try {
      const response = await rangeWhenLeaderElected(process.ports.client!, dataDir, '/damage/');
      assert.equal(response.count, 300, 'every key is back');
      assert.equal(Buffer.from(response.kvs.find((kv) => Buffer.from(kv.key).toString() === '/damage/299')!.value).toString(), 'value-299');
    } finally {
      await process.stop();
    }
  });

  test('following the advice for a damaged Raft log in a 3-node cluster (empty data dir, --join under a new name) brings the data back', async () => {
    // A group of its own: its node names and data dirs must not meet the pristine node's.
    await withProcesses((clusterGroup) => followRaftAdvice(clusterGroup));
  });

  async function followRaftAdvice(clusterGroup: ProcessGroup): Promise<void> {
    const nodes = await startBrambleCluster(clusterGroup, 3);
    const leader = await waitForLeader(nodes);
    const victim = nodes.find((node) => node !== leader)!;
    const client = new StoreClient({ tls: nodes[0]!.tls, endpoints: nodes.map((node) => node.clientAddress), timeoutMs: 10_000 });
    for (let i = 0; i < 50; i++) await client.put(text(`/rejoin/${i}`), text(`v${i}`));
    await victim.process.kill('SIGKILL');
    for (const file of filesMatching(join(victim.process.dataDir, 'raft', 'log'), /^MANIFEST-/)) truncateSync(file, 10);
    victim.process.start();
    const exit = await victim.process.waitForExit();
    assert.equal(exit.code, 1, 'the damaged member refuses to start');
    assert.match(victim.process.log.join('\n'), /--join <client address of a member> under a new --name/);
    const replacement = await joinBrambleNode(clusterGroup, `${victim.name}b`, leader);
    await waitFor('the replacement promoted to voter', async () => (await statusOf(leader))?.confState.voters.includes(replacement.name));
    const local = new StoreClient({ tls: replacement.tls, endpoints: [replacement.clientAddress], timeoutMs: 10_000 });
    try {
      const response = await waitFor('the replacement to hold every key', async () => {
        const answer = await local.range({ prefix: text('/rejoin/'), serializable: true });
        return answer.count === 50 ? answer : null;
      });
      assert.equal(response.count, 50);
      await client.put(text('/rejoin/after'), text('committed'));
    } finally {
      local.close();
      client.close();
    }
  }

  test('the undamaged data dir starts and serves all 300 keys (the damage, not the copy, made the others fail)', async () => {
    const dataDir = await damagedCopy(() => undefined);
    const process = await group.spawn('pristine-up', {
      portNames: ['peer', 'client'],
      args: ({ ports }) => ['up', '--pod-network', 'off', '--name', 'node1', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--tick-ms', '20'],
    });
    await process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
    try {
      assert.equal((await rangeWhenLeaderElected(process.ports.client!, dataDir, '/damage/')).count, 300);
    } finally {
      await process.stop();
    }
  });
});
