// Secret bytes encrypted by SecretCipher and written to the real MVCC store on LevelDB files: the
// plaintext appears in no file of the data dir, while the same write unencrypted does (so the
// search below can find what it looks for), and the value reads back after a reopen.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadSecretCipher } from '../../../../src/api/encryption/secret-cipher.ts';
import { encodeCommand, LevelBackend, MvccStore, utf8 } from '../../../../src/store/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-at-rest-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const KEY = '/registry/secrets/class-a/db-password';
// Unique, incompressible-looking marker: LevelDB's compression cannot hide it in the control run.
const MARKER = 'S3cr3t-Marker-7f9c2b1e-hunter2';
const secretJson = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: 'class-a' }, stringData: { password: MARKER } });

function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(needle)) hits.push(path);
  }
  return hits;
}

async function writeSecret(dataDir: string, value: Uint8Array): Promise<void> {
  const store = await MvccStore.open(new LevelBackend(join(dataDir, 'mvcc')));
  await store.apply(1, encodeCommand({ op: 'put', key: utf8(KEY), value }));
  await store.close();
}

describe('Secrets at rest in a real LevelDB data dir', () => {
  test('control: written without the cipher, the plaintext is found in the files', async () => {
    const dataDir = join(tmp, 'plain');
    await writeSecret(dataDir, utf8(secretJson));
    assert.notDeepEqual(filesContaining(dataDir, MARKER), [], 'the search can find the marker');
  });

  test('with the cipher, no file of the data dir holds the plaintext; it reads back after a reopen', async () => {
    const dataDir = join(tmp, 'encrypted');
    const { cipher } = loadSecretCipher(join(tmp));
    await writeSecret(dataDir, cipher.encrypt(utf8(secretJson), utf8(KEY)));
    assert.deepEqual(filesContaining(dataDir, MARKER), []);
    assert.deepEqual(filesContaining(dataDir, 'db-password"'), [], 'the object body is not readable either (only the key names it)');

    const store = await MvccStore.open(new LevelBackend(join(dataDir, 'mvcc')));
    try {
      const kv = await store.get(utf8(KEY));
      assert.ok(kv !== undefined);
      assert.ok(Buffer.from(kv.value).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key1:')));
      const again = loadSecretCipher(join(tmp)).cipher;
      assert.equal(new TextDecoder().decode(again.decrypt(kv.value, utf8(KEY))), secretJson);
    } finally {
      await store.close();
    }
  });
});
