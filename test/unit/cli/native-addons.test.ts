import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { addonCacheDir, addonFile, embeddedAddonBytes, ensurePrivateDir, sha256 } from '../../../src/cli/sea/native-addons.ts';

const dir = mkdtempSync(join(tmpdir(), 'bramble-addons-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const uid = process.getuid?.() ?? -1;

describe('addonCacheDir', () => {
  test('BRAMBLE_CACHE_DIR, then an absolute XDG_CACHE_HOME, then /var/cache for root, then ~/.cache', () => {
    assert.equal(addonCacheDir({ BRAMBLE_CACHE_DIR: '/srv/c', XDG_CACHE_HOME: '/x' }, 1000, '/home/p'), '/srv/c');
    assert.equal(addonCacheDir({ XDG_CACHE_HOME: '/x' }, 0, '/root'), '/x/bramble');
    // The XDG spec says a relative XDG_CACHE_HOME is to be ignored.
    assert.equal(addonCacheDir({ XDG_CACHE_HOME: 'rel' }, 1000, '/home/p'), '/home/p/.cache/bramble');
    assert.equal(addonCacheDir({}, 0, '/root'), '/var/cache/bramble');
    assert.equal(addonCacheDir({}, 1000, '/home/p'), '/home/p/.cache/bramble');
  });
});

describe('ensurePrivateDir', () => {
  test('makes a missing directory with mode 0700', () => {
    const made = join(dir, 'made', 'deeper');
    ensurePrivateDir(made, uid);
    assert.equal(statSync(made).mode & 0o777, 0o700);
  });

  test('refuses a directory others may write to, and one of another user', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    assert.throws(() => ensurePrivateDir(open, uid), /writable by group or others \(mode 777\)/);
    const mine = join(dir, 'mine');
    mkdirSync(mine, { mode: 0o700 });
    assert.throws(() => ensurePrivateDir(mine, uid + 1), /belongs to uid \d+, not to this user/);
  });
});

describe('addonFile', () => {
  const bytes = Buffer.from('not really a shared object, but bytes with a digest');
  const digest = sha256(bytes);

  test('writes the bytes once to <name>-<sha256>.node and leaves no temporary file', () => {
    const cache = join(dir, 'cache1');
    ensurePrivateDir(cache, uid);
    const path = addonFile(cache, 'classic-level', bytes, digest);
    assert.equal(path, join(cache, `classic-level-${digest}.node`));
    assert.deepEqual(readFileSync(path), bytes);
    const written = statSync(path).mtimeMs;
    assert.equal(addonFile(cache, 'classic-level', bytes, digest), path);
    assert.equal(statSync(path).mtimeMs, written, 'a file with the right digest is kept, not rewritten');
    assert.deepEqual(readdirSync(cache), [`classic-level-${digest}.node`]);
  });

  test('a cached file whose content lost its digest is replaced', () => {
    const cache = join(dir, 'cache2');
    ensurePrivateDir(cache, uid);
    const path = join(cache, `classic-level-${digest}.node`);
    writeFileSync(path, 'damaged');
    assert.equal(addonFile(cache, 'classic-level', bytes, digest), path);
    assert.deepEqual(readFileSync(path), bytes);
  });
});

describe('embeddedAddonBytes', () => {
  test('outside the single executable it says which executable to run', () => {
    assert.throws(() => embeddedAddonBytes('classic-level'), /not embedded here: run the bramble executable built for linux-\w+ \(npm run build\), or bramble from a checkout/);
  });
});
