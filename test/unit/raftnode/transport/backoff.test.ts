import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPrng } from '../../../../src/raft/prng.ts';
import { parseHostPort, formatHostPort } from '../../../../src/raftnode/transport/address.ts';
import { Backoff } from '../../../../src/raftnode/transport/backoff.ts';

describe('Backoff', () => {
  test('doubles from the base to the cap; jitter spans the upper half of each step', () => {
    const low = new Backoff({ reconnectBackoffBaseMs: 100, reconnectBackoffMaxMs: 1000, random: () => 0 });
    assert.deepStrictEqual(Array.from({ length: 7 }, () => low.nextDelayMs()), [50, 100, 200, 400, 500, 500, 500]);
    const high = new Backoff({ reconnectBackoffBaseMs: 100, reconnectBackoffMaxMs: 1000, random: () => 0.999999 });
    assert.deepStrictEqual(Array.from({ length: 7 }, () => high.nextDelayMs()), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  test('reset() starts again from the base', () => {
    const backoff = new Backoff({ reconnectBackoffBaseMs: 100, reconnectBackoffMaxMs: 1000, random: () => 0 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    assert.equal(backoff.failures, 0);
    assert.equal(backoff.nextDelayMs(), 50);
  });

  test('a seeded source gives the same delays every run, always within the cap', () => {
    const run = () => {
      const prng = createPrng(7);
      const backoff = new Backoff({ reconnectBackoffBaseMs: 10, reconnectBackoffMaxMs: 5000, random: () => prng.nextFloat() });
      return Array.from({ length: 100 }, () => backoff.nextDelayMs());
    };
    const delays = run();
    assert.deepStrictEqual(run(), delays);
    assert.ok(delays.every((d) => d >= 5 && d <= 5000));
  });
});

describe('addresses', () => {
  test('host:port and [ipv6]:port', () => {
    assert.deepStrictEqual(parseHostPort('127.0.0.1:7000'), { host: '127.0.0.1', port: 7000 });
    assert.deepStrictEqual(parseHostPort('pi-3.local:1'), { host: 'pi-3.local', port: 1 });
    assert.deepStrictEqual(parseHostPort('[fe80::1]:65535'), { host: 'fe80::1', port: 65535 });
    assert.equal(formatHostPort({ host: 'fe80::1', port: 80 }), '[fe80::1]:80');
    assert.equal(formatHostPort({ host: 'a', port: 80 }), 'a:80');
  });

  test('anything else is refused; port 0 only for listening', () => {
    for (const bad of ['', 'host', ':80', 'host:', 'host:65536', 'fe80::1:80', 'mem://b', 'host:80x']) assert.equal(parseHostPort(bad), null, bad);
    assert.equal(parseHostPort('127.0.0.1:0'), null);
    assert.deepStrictEqual(parseHostPort('127.0.0.1:0', true), { host: '127.0.0.1', port: 0 });
  });
});
