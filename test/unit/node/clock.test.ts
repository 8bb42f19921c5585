// The node's wait for a clock that a board without a real-time clock has not set yet: the clock
// and the sleep are the inputs here (a test cannot move the machine's clock).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitForPlausibleClock } from '../../../src/node/clock.ts';
import { CERTIFICATE_NOT_BEFORE } from '../../../src/identity/certs.ts';

function recorder(): { logger: { warn: (m: string) => void; info: (m: string) => void }; lines: string[] } {
  const lines: string[] = [];
  return { logger: { warn: (m) => lines.push(`warn ${m}`), info: (m) => lines.push(`info ${m}`) }, lines };
}

describe('waiting for the clock', () => {
  test('a set clock: no wait, no log line', async () => {
    const { logger, lines } = recorder();
    let slept = 0;
    await waitForPlausibleClock(logger, { now: () => Date.parse('2026-12-08T00:00:00Z'), sleep: async () => void slept++ });
    assert.equal(slept, 0);
    assert.deepEqual(lines, []);
  });

  test('a clock at 1970: one warning that says why and what to do, then it waits until NTP sets the time', async () => {
    const { logger, lines } = recorder();
    let clock = 0;
    let slept = 0;
    await waitForPlausibleClock(logger, {
      now: () => clock,
      // NTP answers at the third poll.
      sleep: async (ms) => {
        assert.equal(ms, 2_000);
        slept++;
        clock = slept === 3 ? Date.parse('2026-12-08T09:00:00Z') : clock + ms;
      },
    });
    assert.equal(slept, 3);
    assert.equal(lines.length, 2);
    assert.equal(
      lines[0],
      `warn the clock says 1970-01-01T00:00:00.000Z, before ${CERTIFICATE_NOT_BEFORE.toISOString()} when the cluster's certificates start: TLS with the other boards would fail ("certificate is not yet valid"). Waiting for the time to be set (a board without a real-time clock gets it by NTP: timedatectl timesync-status; or set it: sudo date -s ...)`,
    );
    assert.equal(lines[1], 'info the clock is set (2026-12-08T09:00:00.000Z): starting');
  });
});
