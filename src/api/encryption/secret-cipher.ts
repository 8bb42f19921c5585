// Encryption at rest for Secrets: AES-256-GCM, stored as Kubernetes' aesgcm provider lays it out,
//   "k8s:enc:aesgcm:v1:<keyname>:" + nonce (12 bytes) + ciphertext + auth tag (16 bytes),
// so the plaintext never reaches the data dir. Keys live in a file of the node's data dir, the
// same on every node of a cluster (bramble up copies it from the cluster bundle; only a data dir
// made before bundles gets a random one at first start); the first key encrypts, every key
// decrypts, which allows a rotation. Data without the prefix is legacy plaintext and is returned
// as-is (Kubernetes' identity fallback), so enabling encryption on an existing store needs no
// migration.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretCipher {
  /** `associatedData` (e.g. the store key) binds the ciphertext to it: it must be the same to decrypt. */
  encrypt(plain: Uint8Array, associatedData?: Uint8Array): Uint8Array;
  decrypt(stored: Uint8Array, associatedData?: Uint8Array): Uint8Array;
}

export const ENCRYPTION_PREFIX = 'k8s:enc:';
const PROVIDER_PREFIX = 'k8s:enc:aesgcm:v1:';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

export class SecretDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptError';
  }
}

export class EncryptionKeyFileError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`encryption key file ${path}: ${detail}`);
    this.name = 'EncryptionKeyFileError';
  }
}

export interface EncryptionKey {
  name: string;
  /** 32 bytes. */
  secret: Uint8Array;
}

const encoder = new TextEncoder();

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** A cipher over given keys (the first one encrypts). `source` names where they came from, for errors. */
export function createSecretCipher(keys: readonly EncryptionKey[], source = 'the key file'): SecretCipher {
  const first = keys[0];
  if (first === undefined) throw new Error('at least one encryption key is needed');
  const byName = new Map<string, Uint8Array>();
  for (const key of keys) {
    if (!KEY_NAME.test(key.name)) throw new Error(`encryption key name ${JSON.stringify(key.name)} must be 1-64 characters of [a-zA-Z0-9_.-]`);
    if (key.secret.length !== KEY_BYTES) throw new Error(`encryption key "${key.name}" has ${key.secret.length} bytes, AES-256 needs ${KEY_BYTES}`);
    if (byName.has(key.name)) throw new Error(`encryption key name "${key.name}" appears twice`);
    byName.set(key.name, key.secret);
  }
  const writePrefix = encoder.encode(`${PROVIDER_PREFIX}${first.name}:`);
  const envelope = encoder.encode(ENCRYPTION_PREFIX);
  const provider = encoder.encode(PROVIDER_PREFIX);

  return {
    encrypt(plain, associatedData) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', first.secret, nonce);
      if (associatedData !== undefined) cipher.setAAD(associatedData);
      const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return Buffer.concat([writePrefix, nonce, sealed]);
    },

    decrypt(stored, associatedData) {
      if (!startsWith(stored, envelope)) return stored; // legacy plaintext
      if (!startsWith(stored, provider)) {
        const head = Buffer.from(stored.subarray(0, Math.min(stored.length, 40))).toString('latin1');
        throw new SecretDecryptError(`stored data uses an encryption provider Bramble does not know (${JSON.stringify(head.split(':').slice(0, 4).join(':'))}); only aesgcm v1 is supported`);
      }
      const rest = Buffer.from(stored.subarray(provider.length));
      const colon = rest.indexOf(0x3a);
      if (colon <= 0) throw new SecretDecryptError('stored data has the aesgcm prefix but no key name');
      const name = rest.subarray(0, colon).toString('latin1');
      const secret = byName.get(name);
      if (secret === undefined) throw new SecretDecryptError(`stored data was encrypted with key "${name}", which is not in ${source}; restore that key to read it`);
      const body = rest.subarray(colon + 1);
      if (body.length < NONCE_BYTES + TAG_BYTES) throw new SecretDecryptError(`stored data encrypted with key "${name}" is truncated (${body.length} bytes after the prefix)`);
      const nonce = body.subarray(0, NONCE_BYTES);
      const tag = body.subarray(body.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', secret, nonce);
      if (associatedData !== undefined) decipher.setAAD(associatedData);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new SecretDecryptError(`stored data encrypted with key "${name}" failed authentication: it was altered, or belongs to another object`);
      }
    },
  };
}

// --- the key file ---------------------------------------------------------------------------------

export const KEY_FILE_NAME = 'encryption-keys.json';

interface KeyFileJson {
  keys: { name: string; secret: string }[];
}

function parseKeyFile(path: string): EncryptionKey[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EncryptionKeyFileError(path, `not valid JSON (${(err as Error).message})`);
  }
  const keys = (json as Partial<KeyFileJson> | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new EncryptionKeyFileError(path, 'expected {"keys":[{"name":"key1","secret":"<base64 of 32 bytes>"}, ...]}');
  return keys.map((k: unknown, i) => {
    const entry = k as { name?: unknown; secret?: unknown } | null;
    if (typeof entry?.name !== 'string' || typeof entry.secret !== 'string') throw new EncryptionKeyFileError(path, `keys[${i}] needs a string name and secret`);
    const secret = Buffer.from(entry.secret, 'base64');
    if (secret.length !== KEY_BYTES) throw new EncryptionKeyFileError(path, `keys[${i}] ("${entry.name}") decodes to ${secret.length} bytes, AES-256 needs ${KEY_BYTES}`);
    return { name: entry.name, secret };
  });
}

function writeKeyFile(path: string, keys: readonly EncryptionKey[], flag: 'wx' | 'w'): void {
  const json: KeyFileJson = { keys: keys.map((k) => ({ name: k.name, secret: Buffer.from(k.secret).toString('base64') })) };
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag });
}

/**
 * The cipher of a node: reads `<dataDir>/encryption-keys.json`, creating it (0600, one new random
 * key) at first start. A key file other users can read is refused: it would leak every Secret.
 */
export function loadSecretCipher(dataDir: string): { cipher: SecretCipher; keyFilePath: string; keyNames: string[] } {
  const path = join(dataDir, KEY_FILE_NAME);
  if (!existsSync(path)) writeKeyFile(path, [{ name: 'key1', secret: randomBytes(KEY_BYTES) }], 'wx');
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new EncryptionKeyFileError(path, `readable by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}`);
  const keys = parseKeyFile(path);
  try {
    return { cipher: createSecretCipher(keys, path), keyFilePath: path, keyNames: keys.map((k) => k.name) };
  } catch (err) {
    throw new EncryptionKeyFileError(path, (err as Error).message);
  }
}

/**
 * Rotation, step one: a new key becomes the one that encrypts, old keys stay for reading. After
 * every Secret has been written again through the API (any update re-encrypts it), the old key
 * can be removed from the file by hand. Every node of the cluster needs the same file.
 */
export function addEncryptionKey(dataDir: string, name: string): void {
  const path = join(dataDir, KEY_FILE_NAME);
  const keys = parseKeyFile(path);
  if (keys.some((k) => k.name === name)) throw new EncryptionKeyFileError(path, `a key named "${name}" exists already`);
  writeKeyFile(path, [{ name, secret: randomBytes(KEY_BYTES) }, ...keys], 'w');
}
