import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { nonBuiltinRequires, strayInputs } from '../../../scripts/build/bundle.ts';
import { patchSize, seaConfig } from '../../../scripts/build/sea.ts';

const dir = mkdtempSync(join(tmpdir(), 'bramble-build-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('patchSize', () => {
  const marker = 'bramble-executable-size-0123456789abcdef:';

  test('writes the file size after the marker, and the size stays the same', () => {
    const file = join(dir, 'one');
    writeFileSync(file, Buffer.concat([Buffer.alloc(1000, 7), Buffer.from(`${marker}${'0'.repeat(16)}`), Buffer.alloc(333, 9)]));
    const before = statSync(file).size;
    assert.equal(patchSize(file, marker), before);
    assert.equal(statSync(file).size, before);
    const text = readFileSync(file).toString('latin1');
    assert.equal(text.slice(text.indexOf(marker) + marker.length, text.indexOf(marker) + marker.length + 16), String(before).padStart(16, '0'));
  });

  test('refuses a file where the marker is missing, twice, or not followed by 16 zeros', () => {
    const missing = join(dir, 'missing');
    writeFileSync(missing, 'no marker here');
    assert.throws(() => patchSize(missing, marker), /holds the size marker nowhere/);
    const twice = join(dir, 'twice');
    writeFileSync(twice, `${marker}${'0'.repeat(16)} ${marker}${'0'.repeat(16)}`);
    assert.throws(() => patchSize(twice, marker), /more than once/);
    const patched = join(dir, 'patched');
    writeFileSync(patched, `${marker}0000000000001234`);
    assert.throws(() => patchSize(patched, marker), /not followed by 16 zeros/);
  });
});

describe('seaConfig', () => {
  test('the loader is the main script, the bundle and each addon are assets, no code cache', () => {
    const config = seaConfig('/w/loader.cjs', '/w/bramble.cjs', '/w/x.blob', { 'classic-level': '/p/classic-level.node' });
    assert.deepEqual(config, {
      main: '/w/loader.cjs',
      output: '/w/x.blob',
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      assets: { 'bramble.js': '/w/bramble.cjs', 'classic-level.node': '/p/classic-level.node' },
    });
  });
});

describe('bundle checks', () => {
  test('nonBuiltinRequires names the packages a bundle would need from node_modules', () => {
    const code = 'const a=require("node:fs"),b=require("path"),c=require("bufferutil");require("stream/consumers");x.require("ws")';
    assert.deepEqual(nonBuiltinRequires(code), ['bufferutil', 'ws']);
  });

  test('strayInputs finds addon files, node-gyp-build and tsx, but not the excluded stubs', () => {
    const input = { bytes: 1, imports: [] };
    const metafile = {
      inputs: {
        'src/cli/main.ts': input,
        'node_modules/classic-level/prebuilds/linux-x64/classic-level.node': input,
        'node_modules/node-gyp-build/index.js': input,
        'node_modules/tsx/dist/esm/api/index.mjs': input,
        'bramble-excluded:./crypto/build/Release/sshcrypto.node': input,
      },
      outputs: {},
    };
    assert.deepEqual(strayInputs(metafile), [
      'node_modules/classic-level/prebuilds/linux-x64/classic-level.node',
      'node_modules/node-gyp-build/index.js',
      'node_modules/tsx/dist/esm/api/index.mjs',
    ]);
  });
});
