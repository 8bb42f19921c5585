import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { encode } from 'cbor-x';
import { encodeCommand, LevelBackend, MvccStore, StoreClosedError, StoreCorruptError, utf8 } from '../../../src/store/index.ts';
import { compact, del, Harness, put } from './helpers.ts';

type Raw = ClassicLevel<Buffer, Buffer>;

async function withRaw<T>(dir: string, body: (db: Raw) => Promise<T>): Promise<T> {
  const db: Raw = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: false });
  await db.open();
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

async function contents(dir: string): Promise<string[]> {
  return withRaw(dir, async (db) => (await db.iterator().all()).map(([key, value]) => `${key.toString('hex')}=${value.toString('hex')}`));
}

function revisionKey(revision: number): Buffer {
  const key = Buffer.alloc(13);
  key[0] = 0x72;
  key.writeBigUInt64BE(BigInt(revision), 1);
  return key;
}

/** A store with some history, damaged by `damage`, must be refused with `expected` and left as it was. */
async function refused(damage: (db: Raw) => Promise<void>, expected: RegExp): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bramble-store-corrupt-'));
  const dir = join(root, 'mvcc');
  try {
    const h = await Harness.open(new LevelBackend(dir));
    await h.runAll([put('/a', '1'), put('/b', '1'), put('/a', '2'), del('/b'), put('/c', '1'), compact(2)]);
    await h.store.close();
    await withRaw(dir, damage);
    const before = await contents(dir);
    await assert.rejects(MvccStore.open(dir), (error: unknown) => {
      assert.ok(error instanceof StoreCorruptError, String(error));
      assert.match(error.message, new RegExp(`MVCC store in ${dir} is damaged`));
      assert.match(error.message, expected);
      assert.match(error.message, /Move the directory aside/);
      return true;
    });
    assert.deepEqual(await contents(dir), before, 'nothing was written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('MVCC store: a damaged data dir is refused, never rewritten', () => {
  test('a state record that does not decode', () => refused((db) => db.put(Buffer.from('m/state'), Buffer.from('garbage!')), /\(m\/state\) does not decode/));

  test('a state record that is missing while data exists', () => refused((db) => db.del(Buffer.from('m/state')), /\(m\/state\) is missing/));

  test('a format record that is missing while data exists', () => refused((db) => db.del(Buffer.from('m/format')), /holds data but no format record/));

  test('a format version from the future', () => refused((db) => db.put(Buffer.from('m/format'), Buffer.from(encode(['bramble-mvcc', 99]))), /unknown format version 99/));

  test('a key index record that does not decode', () => refused((db) => db.put(Buffer.from('k/a'), Buffer.from([0x83, 1])), /index record of key "\/a" does not decode/));

  test('a change stored beyond the recorded revision (data without its metadata)', () =>
    refused((db) => db.put(revisionKey(9), Buffer.from('x')), /change at revision 9 is stored beyond the recorded revision 5/));

  test('the changes of the recorded revision are missing', () => refused((db) => db.del(revisionKey(5)), /changes of the recorded revision 5 are missing/));

  test('a directory that holds something other than LevelDB', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-store-corrupt-'));
    try {
      const dir = join(root, 'mvcc');
      mkdirSync(dir);
      writeFileSync(join(dir, 'notes.txt'), 'my files');
      await assert.rejects(MvccStore.open(dir), (error: unknown) => error instanceof StoreCorruptError && error.message.includes(`${dir} is damaged`) && /no LevelDB database/.test(error.message));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('an older change that does not decode is reported when read', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-store-corrupt-'));
    const dir = join(root, 'mvcc');
    try {
      let store = await MvccStore.open(dir);
      await store.apply(1, encodeCommand(put('/a', '1')));
      await store.apply(2, encodeCommand(put('/b', '1')));
      await store.close();
      await withRaw(dir, (db) => db.put(revisionKey(1), Buffer.from([0xff])));
      store = await MvccStore.open(dir);
      await assert.rejects(store.range({ key: utf8('/a') }), (error: unknown) => error instanceof StoreCorruptError && /revision 1 does not decode/.test(error.message));
      await store.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

test('a store that another process holds open is reported as in use, not as damaged', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bramble-store-locked-'));
  const dir = join(root, 'mvcc');
  try {
    const store = await MvccStore.open(dir);
    await assert.rejects(MvccStore.open(dir), (error: unknown) => {
      assert.ok(error instanceof StoreClosedError, String(error));
      assert.match(error.message, /in use by another process/);
      return true;
    });
    await store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
