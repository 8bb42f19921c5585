import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { detectRunnablePlatforms, platformRunnable } from '../../../src/agent/runtime/platforms.ts';

/** A fake binfmt_misc directory (the kernel's /proc/sys/fs/binfmt_misc cannot be staged in a test). */
async function withFakeBinfmt(entries: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bramble-fake-binfmt-'));
  try {
    for (const [name, content] of Object.entries(entries)) await writeFile(join(dir, name), content);
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('runnable platforms', () => {
  test('an amd64 node with qemu-aarch64 enabled runs arm64 emulated, not 32-bit arm', async () => {
    await withFakeBinfmt({ 'qemu-aarch64': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n', register: '', status: 'enabled\n' }, async (dir) => {
      const runnable = detectRunnablePlatforms({ os: 'linux', architecture: 'amd64' }, dir);
      assert.deepEqual(runnable, [
        { architecture: 'amd64', variants: [], emulated: false },
        { architecture: 'arm64', variants: [], emulated: true },
      ]);
      assert.ok(platformRunnable({ os: 'linux', architecture: 'arm64', variant: 'v8' }, runnable)?.emulated);
      assert.equal(platformRunnable({ os: 'linux', architecture: 'arm', variant: 'v7' }, runnable), null);
    });
  });

  test('a disabled emulator or a missing binfmt_misc adds nothing', async () => {
    await withFakeBinfmt({ 'qemu-aarch64': 'disabled\n' }, async (dir) => {
      assert.deepEqual(detectRunnablePlatforms({ os: 'linux', architecture: 'amd64' }, dir), [{ architecture: 'amd64', variants: [], emulated: false }]);
    });
    assert.deepEqual(detectRunnablePlatforms({ os: 'linux', architecture: 'amd64' }, '/nonexistent/binfmt'), [{ architecture: 'amd64', variants: [], emulated: false }]);
  });

  test('a Pi Zero (armv6) refuses armv7 images; a Pi 4 on 32-bit runs both; a 64-bit Pi runs 32-bit arm too', () => {
    const zero = detectRunnablePlatforms({ os: 'linux', architecture: 'arm', variant: 'v6' }, '/nonexistent');
    assert.ok(platformRunnable({ os: 'linux', architecture: 'arm', variant: 'v6' }, zero));
    assert.equal(platformRunnable({ os: 'linux', architecture: 'arm', variant: 'v7' }, zero), null);
    assert.equal(platformRunnable({ os: 'linux', architecture: 'arm' }, zero), null, 'an arm image without variant is v7');
    const pi4 = detectRunnablePlatforms({ os: 'linux', architecture: 'arm', variant: 'v7' }, '/nonexistent');
    assert.ok(platformRunnable({ os: 'linux', architecture: 'arm', variant: 'v6' }, pi4));
    assert.ok(platformRunnable({ os: 'linux', architecture: 'arm', variant: 'v7' }, pi4));
    assert.equal(platformRunnable({ os: 'linux', architecture: 'arm64', variant: 'v8' }, pi4), null);
    const pi5 = detectRunnablePlatforms({ os: 'linux', architecture: 'arm64', variant: 'v8' }, '/nonexistent');
    assert.ok(platformRunnable({ os: 'linux', architecture: 'arm64' }, pi5));
    assert.ok(platformRunnable({ os: 'linux', architecture: 'arm', variant: 'v7' }, pi5));
    assert.equal(platformRunnable({ os: 'linux', architecture: 'amd64' }, pi5), null);
  });

  test('a non-linux image never fits', () => {
    assert.equal(platformRunnable({ os: 'windows', architecture: 'amd64' }, [{ architecture: 'amd64', variants: [], emulated: false }]), null);
  });
});
