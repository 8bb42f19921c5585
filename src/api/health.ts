// /livez, /readyz and /healthz as the Kubernetes API server serves them (its healthz package):
// named checks; `?verbose` lists `[+]name ok` / `[-]name failed: reason withheld` (the reason is
// withheld because these paths are public) and ends with `<endpoint> check passed|failed`;
// `?exclude=name` skips a check; `/<endpoint>/<name>` runs one check and, being readable only by
// monitoring users, tells the reason. 200 when all pass, 500 otherwise, plain text.
//
// The checks come from the layers that know (the node assembly passes the store's leader check);
// this module runs them. Every run is bounded by a timeout, and a check still running is not
// started again by the next probe (probes share it), so slow checks never pile up.
import { performance } from 'node:perf_hooks';

export interface HealthCheck {
  readonly name: string;
  /** Returns (or resolves) when healthy; throws (or rejects) with the reason when not. */
  check(): void | Promise<void>;
}

export type HealthEndpoint = 'livez' | 'readyz' | 'healthz';

export type HealthChecks = Record<HealthEndpoint, readonly HealthCheck[]>;

export interface HealthAnswer {
  code: 200 | 500;
  body: string;
}

/** How long one check may take before it counts as failed (Kubernetes' etcd checks take 2 s). */
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

/** The paths anyone may ask without credentials (RBAC then decides: system:public-info-viewer allows only the three roots). */
export const HEALTH_PATH_PREFIXES: readonly string[] = ['/livez', '/readyz', '/healthz'];

export const pingCheck: HealthCheck = { name: 'ping', check: () => undefined };

class CheckTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the check did not answer within ${timeoutMs} ms`);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Health {
  /** The run of each check still going, shared by every probe that arrives meanwhile. */
  private readonly running = new Map<HealthCheck, Promise<void>>();

  constructor(
    private readonly checks: HealthChecks,
    private readonly timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
  ) {}

  /** The answer for `path` (with its query), or undefined when it names no endpoint or check here (a 404 for the caller). */
  async answer(path: string, query: URLSearchParams): Promise<HealthAnswer | undefined> {
    const [, endpoint, name, ...rest] = path.split('/');
    if (endpoint !== 'livez' && endpoint !== 'readyz' && endpoint !== 'healthz') return undefined;
    const checks = this.checks[endpoint].length > 0 ? this.checks[endpoint] : [pingCheck];
    if (name === undefined) return this.root(endpoint, checks, query);
    const check = rest.length === 0 ? checks.find((c) => c.name === name) : undefined;
    if (!check) return undefined;
    const failure = await this.run(check);
    return failure === null ? { code: 200, body: 'ok' } : { code: 500, body: `internal server error: ${failure}\n` };
  }

  /** All checks of an endpoint; always verbose on failure, as Kubernetes is. */
  private async root(endpoint: HealthEndpoint, checks: readonly HealthCheck[], query: URLSearchParams): Promise<HealthAnswer> {
    const excluded = new Set(query.getAll('exclude'));
    const results = await Promise.all(checks.map((check) => (excluded.has(check.name) ? 'excluded' : this.run(check))));
    let lines = '';
    let failed = false;
    checks.forEach((check, i) => {
      const result = results[i];
      excluded.delete(check.name);
      if (result === 'excluded') lines += `[+]${check.name} excluded: ok\n`;
      else if (result === null) lines += `[+]${check.name} ok\n`;
      else {
        failed = true;
        lines += `[-]${check.name} failed: reason withheld\n`;
      }
    });
    if (excluded.size > 0) lines += `warn: some health checks cannot be excluded: no matches for ${[...excluded].sort().map((n) => JSON.stringify(n)).join(',')}\n`;
    if (failed) return { code: 500, body: `${lines}${endpoint} check failed\n` };
    return { code: 200, body: query.has('verbose') ? `${lines}${endpoint} check passed\n` : 'ok' };
  }

  /** null when the check passed, else its reason; never longer than the timeout. */
  private async run(check: HealthCheck): Promise<string | null> {
    let run = this.running.get(check);
    if (!run) {
      const started = Promise.resolve().then(() => check.check());
      run = started.finally(() => this.running.delete(check));
      this.running.set(check, run);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckTimeoutError(this.timeoutMs)), this.timeoutMs);
    });
    try {
      await Promise.race([run, timeout]);
      return null;
    } catch (error) {
      return reasonOf(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface EventLoopCheckOptions {
  /** Lateness of a timer beyond which the process counts as wedged (default 10 s: far beyond any honest pause). */
  boundMs?: number;
  /** How often the sampling timer runs (default 1 s). */
  intervalMs?: number;
  /** How long a stall beyond the bound keeps the check failing after the loop runs again (default 30 s). */
  holdMs?: number;
}

/**
 * `event-loop`: fails when the process is wedged. A timer samples its own lateness; the check fails
 * while the timer is overdue by more than the bound (timers starved), or for `holdMs` after it
 * came back that late. Quorum, peers and the store play no part: restarting the process would
 * not bring them back.
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): HealthCheck & { stop(): void } {
  const boundMs = options.boundMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 1_000;
  const holdMs = options.holdMs ?? 30_000;
  let lastTick = performance.now();
  let stall: { ms: number; at: number } | undefined;
  const timer = setInterval(() => {
    const now = performance.now();
    const lateMs = now - lastTick - intervalMs;
    lastTick = now;
    if (lateMs > boundMs) stall = { ms: lateMs, at: now };
  }, intervalMs);
  timer.unref();
  return {
    name: 'event-loop',
    check() {
      const now = performance.now();
      const overdueMs = now - lastTick - intervalMs;
      if (overdueMs > boundMs) throw new Error(`the event loop's timers are ${Math.round(overdueMs)} ms overdue (bound ${boundMs} ms)`);
      if (stall && now - stall.at <= holdMs) throw new Error(`the event loop was blocked for ${Math.round(stall.ms)} ms ${Math.round(now - stall.at)} ms ago (bound ${boundMs} ms)`);
    },
    stop: () => clearInterval(timer),
  };
}
