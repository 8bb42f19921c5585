// A board without a real-time clock may start Bramble before its clock is set: without
// fake-hwclock or a recent systemd it says 1970 until NTP answers. Every certificate of the
// cluster starts at CERTIFICATE_NOT_BEFORE (2020), so such a clock fails every TLS handshake with
// "certificate is not yet valid". The node waits for the time instead, and says so.
import type { Logger } from 'pino';
import { CERTIFICATE_NOT_BEFORE } from '../identity/certs.ts';

export interface ClockWait {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  pollMs?: number;
}

/** Resolves once the clock is past CERTIFICATE_NOT_BEFORE: at once on a board whose clock is set; logs once while it waits. */
export async function waitForPlausibleClock(logger: Pick<Logger, 'warn' | 'info'>, wait: ClockWait = {}): Promise<void> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const floor = CERTIFICATE_NOT_BEFORE.getTime();
  if (now() >= floor) return;
  logger.warn(
    `the clock says ${new Date(now()).toISOString()}, before ${CERTIFICATE_NOT_BEFORE.toISOString()} when the cluster's certificates start: ` +
      'TLS with the other boards would fail ("certificate is not yet valid"). Waiting for the time to be set ' +
      '(a board without a real-time clock gets it by NTP: timedatectl timesync-status; or set it: sudo date -s ...)',
  );
  while (now() < floor) await sleep(wait.pollMs ?? 2_000);
  logger.info(`the clock is set (${new Date(now()).toISOString()}): starting`);
}
