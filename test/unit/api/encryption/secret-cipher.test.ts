import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { addEncryptionKey, createSecretCipher, EncryptionKeyFileError, loadSecretCipher, SecretDecryptError } from '../../../../src/api/encryption/secret-cipher.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-cipher-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const enc = new TextEncoder();
const dec = new TextDecoder();
const key = (name: string, fill: number): { name: string; secret: Uint8Array } => ({ name, secret: new Uint8Array(32).fill(fill) });
const plaintext = enc.encode('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}');

describe('SecretCipher (AES-256-GCM, Kubernetes aesgcm layout)', () => {
  const cipher = createSecretCipher([key('key1', 7)]);

  test('round trip; the stored bytes carry the k8s:enc:aesgcm:v1:<key>: prefix and no plaintext', () => {
    const stored = cipher.encrypt(plaintext);
    assert.ok(Buffer.from(stored).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key1:')));
    assert.equal(stored.length, 23 + 12 + plaintext.length + 16);
    assert.equal(Buffer.from(stored).indexOf('aHVudGVyMg=='), -1);
    assert.equal(Buffer.from(stored).indexOf('password'), -1);
    assert.equal(dec.decode(cipher.decrypt(stored)), dec.decode(plaintext));
  });

  test('a fresh nonce each time: the same plaintext never gives the same bytes', () => {
    assert.notDeepEqual(cipher.encrypt(plaintext), cipher.encrypt(plaintext));
  });

  test('tampering with any byte after the prefix is detected by the auth tag', () => {
    const stored = cipher.encrypt(plaintext);
    for (const offset of [23, 23 + 12, stored.length - 20, stored.length - 1]) {
      const bad = Uint8Array.from(stored);
      bad[offset] = (bad[offset] ?? 0) ^ 0x01;
      assert.throws(() => cipher.decrypt(bad), (err: unknown) => err instanceof SecretDecryptError && /key "key1" failed authentication: it was altered/.test(err.message), `byte ${offset}`);
    }
  });

  test('associated data binds ciphertext to its store key: moved to another key, it does not decrypt', () => {
    const stored = cipher.encrypt(plaintext, enc.encode('/registry/secrets/a/db'));
    assert.equal(dec.decode(cipher.decrypt(stored, enc.encode('/registry/secrets/a/db'))), dec.decode(plaintext));
    assert.throws(() => cipher.decrypt(stored, enc.encode('/registry/secrets/b/db')), SecretDecryptError);
  });

  test('legacy unprefixed data is returned as-is', () => {
    const legacy = enc.encode('{"kind":"Secret"}');
    assert.equal(cipher.decrypt(legacy), legacy);
  });

  test('clear errors: unknown key, truncated data, unknown provider', () => {
    const other = createSecretCipher([key('key9', 1)]);
    assert.throws(() => cipher.decrypt(other.encrypt(plaintext)), /encrypted with key "key9", which is not in the key file; restore that key/);
    assert.throws(() => cipher.decrypt(enc.encode('k8s:enc:aesgcm:v1:key1:short')), /truncated/);
    assert.throws(() => cipher.decrypt(enc.encode('k8s:enc:aescbc:v1:key1:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')), /provider Bramble does not know \("k8s:enc:aescbc:v1"\)/);
    assert.throws(() => cipher.decrypt(enc.encode('k8s:enc:aesgcm:v1:')), /no key name/);
  });

  test('bad keys are refused', () => {
    assert.throws(() => createSecretCipher([]), /at least one/);
    assert.throws(() => createSecretCipher([{ name: 'k', secret: new Uint8Array(16) }]), /16 bytes, AES-256 needs 32/);
    assert.throws(() => createSecretCipher([key('a:b', 1)]), /must be 1-64 characters/);
    assert.throws(() => createSecretCipher([key('k', 1), key('k', 2)]), /appears twice/);
  });
});

describe('the key file in the data dir', () => {
  test('created 0600 at first start with one key; the same key on the next start', () => {
    const dir = mkdtempSync(join(tmp, 'node-'));
    const first = loadSecretCipher(dir);
    assert.equal(statSync(first.keyFilePath).mode & 0o777, 0o600);
    assert.deepEqual(first.keyNames, ['key1']);
    const stored = first.cipher.encrypt(plaintext);
    const second = loadSecretCipher(dir);
    assert.equal(dec.decode(second.cipher.decrypt(stored)), dec.decode(plaintext));
  });

  test('a key file readable by others is refused with the chmod to run', () => {
    const dir = mkdtempSync(join(tmp, 'node-'));
    const { keyFilePath } = loadSecretCipher(dir);
    chmodSync(keyFilePath, 0o644);
    assert.throws(() => loadSecretCipher(dir), (err: unknown) => err instanceof EncryptionKeyFileError && err.message.includes(`mode 0644); run chmod 600 ${keyFilePath}`));
  });

  test('a damaged key file is refused with what is wrong', () => {
    const dir = mkdtempSync(join(tmp, 'node-'));
    const path = join(dir, 'encryption-keys.json');
    writeFileSync(path, '{"keys": [', { mode: 0o600 });
    assert.throws(() => loadSecretCipher(dir), /not valid JSON/);
    writeFileSync(path, JSON.stringify({ keys: [{ name: 'key1', secret: Buffer.alloc(8).toString('base64') }] }));
    assert.throws(() => loadSecretCipher(dir), /decodes to 8 bytes, AES-256 needs 32/);
    writeFileSync(path, JSON.stringify({ keys: [] }));
    assert.throws(() => loadSecretCipher(dir), /expected \{"keys"/);
  });

  test('rotation: the new key encrypts, the old one still decrypts', () => {
    const dir = mkdtempSync(join(tmp, 'node-'));
    const before = loadSecretCipher(dir).cipher.encrypt(plaintext);
    addEncryptionKey(dir, 'key2');
    const rotated = loadSecretCipher(dir);
    assert.deepEqual(rotated.keyNames, ['key2', 'key1']);
    assert.equal(dec.decode(rotated.cipher.decrypt(before)), dec.decode(plaintext));
    assert.ok(Buffer.from(rotated.cipher.encrypt(plaintext)).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key2:')));
    assert.throws(() => addEncryptionKey(dir, 'key1'), /exists already/);
    assert.equal(statSync(rotated.keyFilePath).mode & 0o777, 0o600);
  });
});
