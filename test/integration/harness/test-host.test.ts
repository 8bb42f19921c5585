import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';

const script = resolve(import.meta.dirname, '..', '..', '..', 'scripts', 'test-host.sh');

describe('test-host provisioning', () => {
  test('a second run finds everything in place and only checks', () => {
    const result = spawnSync('bash', [script], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /bramble-test\/busybox:amd64 \(linux\/amd64\): already-present/);
    assert.match(result.stdout, /bramble-test\/busybox:arm64 \(linux\/arm64\/v8\): already-present/);
    assert.doesNotMatch(result.stdout, /installing|apt-get update|starting dockerd/);
  });

  test('without root it installs nothing, lists exactly what is missing and exits 1', () => {
    // As user nobody, with an empty cache: no root, no busybox, and no access to the Docker socket.
    const result = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', script],
      { encoding: 'utf8', env: { ...process.env, BRAMBLE_TEST_CACHE: '/nonexistent/bramble-test-cache' } },
    );
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /cannot provision this machine: it does not run as root/);
    assert.match(result.stderr, /- root \(the tests create network namespaces/);
    assert.match(result.stderr, /- Debian's busybox-static for amd64 unpacked to \/nonexistent\/bramble-test-cache\/busybox\/amd64/);
    assert.match(result.stderr, /- Debian's busybox-static for arm64 unpacked to/);
    assert.match(result.stderr, /- a running Docker engine/);
    assert.doesNotMatch(result.stderr, /qemu-user-static/, 'qemu is registered, so it is not listed');
  });
});
