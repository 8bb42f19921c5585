// Per-user limits on the API, so one client (a student's runaway loop) cannot starve a board:
// a token bucket per user (request rate) and a cap on each user's requests in flight, plus a cap
// on the in-flight requests of all ordinary users together. A simple form of Kubernetes' API
// Priority and Fairness: the board's own identities (the nodes, `system:nodes`) and the admin
// (`system:masters`) draw on a separate, larger allowance, so a flood of ordinary users never
// delays a node's heartbeat or the admin's repair. Over a limit: 429 TooManyRequests with
// Retry-After (seconds), which client-go (kubectl) honours by waiting and retrying.
//
// Long-running requests (watch, pods/log, exec, attach, portforward: Kubernetes'
// LongRunningRequestCheck) take a token like any request but hold their in-flight seat only while
// they start: until their response headers go out (an exec: until its upgrade is answered), as
// Kubernetes exempts them from the max-in-flight once started. Otherwise the seats would bound how
// many watches a user may keep open, which is not what they are for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendWhole } from '../store/http-body.ts';
import type { RequestAttributes, UserInfo } from './auth/index.ts';
import { GROUP_MASTERS } from './auth/index.ts';
import { failure, type Status } from './resources/index.ts';

export interface Allowance {
  /** Requests per second, sustained (the bucket's refill rate). */
  qps: number;
  /** Requests at once above the rate (the bucket's size). */
  burst: number;
  /** Requests of one user being served at once. */
  maxInflight: number;
}

export interface FairnessOptions {
  /** Each ordinary user (token-file users, service accounts, other certificates). */
  user: Allowance;
  /** All ordinary users together: requests in flight. */
  usersMaxInflight: number;
  /** Each system user (a node identity, the admin): larger, and apart from the ordinary users. */
  system: Allowance;
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number;
}

export const DEFAULT_FAIRNESS: Readonly<Omit<FairnessOptions, 'now'>> = {
  user: { qps: 20, burst: 100, maxInflight: 10 },
  usersMaxInflight: 100,
  system: { qps: 200, burst: 1000, maxInflight: 100 },
};

export const GROUP_NODES = 'system:nodes';

/** What the API server answers over a limit (the sentence of Kubernetes' own max-in-flight and APF rejections). */
export const TOO_MANY_REQUESTS = 'Too many requests, please try again later.';

const LONG_RUNNING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/** Kubernetes' LongRunningRequestCheck: verbs watch/proxy, subresources attach/exec/log/portforward/proxy. */
export function isLongRunning(attrs: RequestAttributes): boolean {
  return attrs.verb === 'watch' || attrs.verb === 'proxy' || (attrs.subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(attrs.subresource));
}

/** Health probes are never limited (Kubernetes' `probes` flow schema is exempt): a busy board must still say how it is. */
function isExempt(attrs: RequestAttributes): boolean {
  return !attrs.resourceRequest && /^\/(healthz|livez|readyz)(\/|$)/.test(attrs.path ?? '');
}

export function isSystemUser(user: UserInfo): boolean {
  return user.groups.includes(GROUP_MASTERS) || user.groups.includes(GROUP_NODES);
}

/** A 429 to send: the Status (with details.retryAfterSeconds, as Kubernetes' NewTooManyRequests) and the header value. */
export interface Refusal {
  status: Status;
  retryAfterSeconds: number;
}

interface Flow {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
  inflight: number;
}

/** Flows whose bucket is full and that have nothing in flight are forgotten beyond this many. */
const MAX_IDLE_FLOWS = 1024;

function validAllowance(name: string, allowance: Allowance): void {
  for (const [key, value] of Object.entries(allowance)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`fairness: ${name}.${key} must be a positive number, got ${String(value)}`);
  }
}

export class Fairness {
  private readonly flows = new Map<string, Flow>();
  private usersInflight = 0;
  private readonly now: () => number;

  constructor(private readonly options: FairnessOptions) {
    validAllowance('user', options.user);
    validAllowance('system', options.system);
    if (!(options.usersMaxInflight > 0)) throw new RangeError(`fairness: usersMaxInflight must be positive, got ${options.usersMaxInflight}`);
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Takes a token and a seat for this request: a release function (idempotent) to call when the
   * seat is no longer held, or the refusal to send.
   */
  acquire(user: UserInfo): { release: () => void } | { refusal: Refusal } {
    const system = isSystemUser(user);
    const allowance = system ? this.options.system : this.options.user;
    // System and ordinary users are separate flows even under one name (a token-file user called admin).
    const key = `${system ? 's' : 'u'}:${user.username}`;
    const flow = this.flow(key, allowance);
    if (flow.inflight >= allowance.maxInflight) {
      return { refusal: refusal(1, `${user.username} has ${flow.inflight} requests in flight, the most one ${system ? 'system ' : ''}user may have`) };
    }
    if (!system && this.usersInflight >= this.options.usersMaxInflight) {
      return { refusal: refusal(1, `users have ${this.usersInflight} requests in flight together, the most this server serves for users other than the nodes and the admin`) };
    }
    if (flow.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - flow.tokens) / allowance.qps));
      return { refusal: refusal(wait, `${user.username} sent more than ${allowance.burst} requests at once or ${allowance.qps} per second`) };
    }
    flow.tokens -= 1;
    flow.inflight++;
    if (!system) this.usersInflight++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        flow.inflight--;
        if (!system) this.usersInflight--;
      },
    };
  }

  /**
   * For an HTTP request: true when it may go on (its seat is given back when the response ends,
   * or for a long-running one when its headers go out); false when the 429 has been sent.
   */
  admit(req: IncomingMessage, res: ServerResponse, user: UserInfo, attrs: RequestAttributes): boolean {
    if (isExempt(attrs)) return true;
    const taken = this.acquire(user);
    if ('refusal' in taken) {
      sendRefusal(req, res, taken.refusal);
      return false;
    }
    res.once('close', taken.release);
    if (isLongRunning(attrs)) releaseWhenStarted(res, taken.release);
    return true;
  }

  /** For an upgrade (exec): the release to call once the upgrade is answered, or null when the 429 was written. */
  admitUpgrade(socket: Duplex, user: UserInfo): (() => void) | null {
    const taken = this.acquire(user);
    if ('refusal' in taken) {
      const body = JSON.stringify(taken.refusal.status);
      socket.end(`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: ${taken.refusal.retryAfterSeconds}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return null;
    }
    socket.once('close', taken.release);
    return taken.release;
  }

  /** Users with state held (for tests and the bound on memory). */
  get trackedUsers(): number {
    return this.flows.size;
  }

  /** The flow of `key`, its bucket refilled for the time since it was last used. */
  private flow(key: string, allowance: Allowance): Flow {
    const now = this.now();
    let flow = this.flows.get(key);
    if (flow === undefined) {
      if (this.flows.size >= MAX_IDLE_FLOWS) this.forgetIdle(now);
      flow = { tokens: allowance.burst, at: now, inflight: 0 };
      this.flows.set(key, flow);
      return flow;
    }
    flow.tokens = Math.min(allowance.burst, flow.tokens + ((now - flow.at) / 1000) * allowance.qps);
    flow.at = now;
    return flow;
  }

  /** Drops the flows a new one would start identical to (full bucket, nothing in flight). */
  private forgetIdle(now: number): void {
    for (const [key, flow] of this.flows) {
      const allowance = key.startsWith('s:') ? this.options.system : this.options.user;
      if (flow.inflight === 0 && flow.tokens + ((now - flow.at) / 1000) * allowance.qps >= allowance.burst) this.flows.delete(key);
    }
  }
}

function refusal(retryAfterSeconds: number, why: string): Refusal {
  const status = failure(429, 'TooManyRequests', TOO_MANY_REQUESTS, { retryAfterSeconds, causes: [{ reason: 'TooManyRequests', message: why }] });
  return { status, retryAfterSeconds };
}

function sendRefusal(req: IncomingMessage, res: ServerResponse, refused: Refusal): void {
  const bytes = Buffer.from(JSON.stringify(refused.status));
  sendWhole(req, res, 429, { 'content-type': 'application/json', 'content-length': bytes.length, 'retry-after': String(refused.retryAfterSeconds) }, bytes);
}

/** Calls `release` as the response's headers are written: a long-running request has then started. */
function releaseWhenStarted(res: ServerResponse, release: () => void): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    release();
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
}
