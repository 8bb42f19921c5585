import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { toNodeOptions } from '../../../src/cli/up.ts';
import { parseUpOptions } from '../../../src/cli/up-options.ts';
import { electionSeed } from '../../../src/node/options.ts';
import { startRaft } from '../../../src/node/raft.ts';
import { openStorage } from '../../../src/node/storage.ts';

test('each start of the same node draws its own election seed; a seed given is kept', () => {
  // What `bramble up --name pi-1` twice gives the node: the same options, no seed.
  const first = toNodeOptions(parseUpOptions({ name: 'pi-1' }, { hostname: 'ignored' }));
  const second = toNodeOptions(parseUpOptions({ name: 'pi-1' }, { hostname: 'ignored' }));
  assert.equal(first.electionSeed, undefined);
  assert.deepEqual(first, second);
  // 20 draws of a 32-bit seed: equal ones would mean a fixed seed (odds of a chance repeat ~ 4e-8).
  const seeds = Array.from({ length: 20 }, () => electionSeed(first.electionSeed));
  assert.equal(new Set(seeds).size, seeds.length, `seeds repeat: ${seeds.join(', ')}`);
  for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, `seed ${seed} is a 32-bit unsigned integer`);
  assert.equal(electionSeed(4175), 4175);
  assert.equal(electionSeed(0), 0, 'zero is a seed, not "none"');
});

test('the raft stage: two starts of the same node on the same data dir run with different seeds; a given seed is used', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-seed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logger = pino({ level: 'silent' });
  const options = { ...toNodeOptions(parseUpOptions({ name: 'pi-1', dataDir: dir }, { hostname: 'ignored' })), peerAddress: { host: '127.0.0.1', port: 0 } };
  const paths = { raftDir: join(dir, 'raft'), storeDir: join(dir, 'store') };
  const start = async (seed?: number): Promise<number> => {
    const storage = await openStorage(paths, { 'pi-1': '127.0.0.1:0' });
    const raft = await startRaft(seed === undefined ? options : { ...options, electionSeed: seed }, { storage, credentials: null, clientTls: undefined, knownMembers: {}, membersFile: join(dir, 'members.json'), onFatal: () => undefined, logger });
    await raft.stop();
    await storage.stop();
    return raft.seed;
  };
  const first = await start();
  const second = await start();
  assert.notEqual(first, second, 'a restart repeats the seed');
  assert.equal(await start(4175), 4175);
});
