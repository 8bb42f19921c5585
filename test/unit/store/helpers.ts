import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand, fromUtf8, LevelBackend, MemoryBackend, MvccStore, utf8 } from '../../../src/store/index.ts';
import type { ApplyResult, Backend, BackendView, BatchOp, Command, KeyRange, Compare, KeyValue, RequestOp, WatchEvent, WatchResponse } from '../../../src/store/index.ts';

/** A fresh backend of each kind; `dispose` removes what it created. */
export interface BackendKind {
  name: string;
  create(): { backend: Backend; dispose(): void };
}

export const backendKinds: BackendKind[] = [
  { name: 'memory', create: () => ({ backend: new MemoryBackend(), dispose: () => undefined }) },
  {
    name: 'LevelDB',
    create: () => {
      const root = mkdtempSync(join(tmpdir(), 'bramble-store-'));
      return { backend: new LevelBackend(join(root, 'mvcc')), dispose: () => rmSync(root, { recursive: true, force: true }) };
    },
  },
];

/** A store plus an applier that numbers entries like a Raft log would. */
export class Harness {
  private constructor(
    readonly store: MvccStore,
    readonly backend: Backend,
  ) {}

  static async open(backend: Backend): Promise<Harness> {
    return new Harness(await MvccStore.open(backend), backend);
  }

  async reopen(): Promise<Harness> {
    await this.store.close();
    return Harness.open(this.backend);
  }

  async run(command: Command): Promise<ApplyResult> {
    return this.store.apply(this.store.appliedIndex() + 1, encodeCommand(command));
  }

  async runAll(commands: Command[]): Promise<ApplyResult[]> {
    const first = this.store.appliedIndex() + 1;
    return this.store.applyBatch(commands.map((command, i) => ({ index: first + i, command: encodeCommand(command) })));
  }

  async put(key: string, value: string): Promise<number> {
    return (await this.run(put(key, value))).header.revision;
  }

  async value(key: string, revision?: number): Promise<string | undefined> {
    const kv = await this.store.get(utf8(key), revision === undefined ? {} : { revision });
    return kv === undefined ? undefined : fromUtf8(kv.value);
  }

  async keys(prefix: string, revision?: number): Promise<string[]> {
    const { kvs } = await this.store.range({ prefix: utf8(prefix), ...(revision === undefined ? {} : { revision }) });
    return kvs.map((kv) => fromUtf8(kv.key));
  }
}

/** Runs `body` against a store on a fresh backend of `kind`, then closes and removes everything. */
export async function withStore(kind: BackendKind, body: (harness: Harness) => Promise<void>, wrap: (backend: Backend) => Backend = (backend) => backend): Promise<void> {
  const { backend: inner, dispose } = kind.create();
  const backend = wrap(inner);
  const harness = await Harness.open(backend);
  try {
    await body(harness);
  } finally {
    await harness.store.close().catch(() => undefined);
    await backend.close().catch(() => undefined);
    dispose();
  }
}

export const put = (key: string, value: string, extra: { prevKv?: boolean } = {}): Command & RequestOp => ({ op: 'put', key: utf8(key), value: utf8(value), ...extra });
export const del = (key: string, extra: { prevKv?: boolean } = {}): Command & RequestOp => ({ op: 'deleteRange', key: utf8(key), ...extra });
export const delPrefix = (prefix: string, extra: { prevKv?: boolean } = {}): Command & RequestOp => ({ op: 'deleteRange', prefix: utf8(prefix), ...extra });
export const compact = (revision: number): Command => ({ op: 'compact', revision });
export const txn = (compare: Compare[], success: RequestOp[], failure: RequestOp[] = []): Command => ({ op: 'txn', compare, success, failure });

/** A KeyValue in strings, for readable assertions. */
export function kvText(kv: KeyValue | undefined): { key: string; value: string; createRevision: number; modRevision: number; version: number } | undefined {
  return kv === undefined ? undefined : { ...kv, key: fromUtf8(kv.key), value: fromUtf8(kv.value) };
}

export function eventText(event: WatchEvent): string {
  const prev = event.prevKv === undefined ? '' : ` (was ${fromUtf8(event.prevKv.value)}@${event.prevKv.modRevision})`;
  return `${event.type} ${fromUtf8(event.kv.key)}=${fromUtf8(event.kv.value)}@${event.kv.modRevision}${prev}`;
}

/** Collects watch responses; waitFor resolves once a condition on them holds. */
export class Collector {
  readonly responses: WatchResponse[] = [];
  private waiters: (() => void)[] = [];

  readonly callback = (response: WatchResponse): void => {
    this.responses.push(response);
    for (const wake of this.waiters.splice(0)) wake();
  };

  get events(): string[] {
    return this.responses.flatMap((response) => (response.type === 'events' ? response.events.map(eventText) : []));
  }

  async waitFor(condition: (collector: Collector) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.responses.map((r) => (r.type === 'events' ? r.events.map(eventText) : r)))}`)), timeoutMs);
    });
    try {
      while (!condition(this)) await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  waitForEvents(count: number): Promise<void> {
    return this.waitFor((collector) => collector.events.length >= count, `${count} events`);
  }
}

/** Lets queued microtasks and I/O callbacks run (for "nothing more arrives" checks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A backend that holds reads of the chosen kind at a gate until released, to put a read
 * deterministically in the middle of a compaction or a restore.
 */
export class GatedBackend implements Backend {
  private gate: { promise: Promise<void>; open: () => void; reached: () => void; waiting: Promise<void> } | undefined;

  constructor(
    readonly inner: Backend,
    private readonly gated: 'entries' | 'getMany',
  ) {}

  get location(): string {
    return this.inner.location;
  }

  /** The next gated read waits; resolves `reached` when one does. Call release() to let it go. */
  closeGate(): { reached: Promise<void>; release: () => void } {
    let open!: () => void;
    let reached!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    const waiting = new Promise<void>((resolve) => (reached = resolve));
    this.gate = { promise, open, reached, waiting };
    return {
      reached: waiting,
      release: () => {
        this.gate = undefined;
        open();
      },
    };
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  write(ops: BatchOp[], options: { sync: boolean }): Promise<void> {
    return this.inner.write(ops, options);
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (this.gated !== 'getMany') return this.inner.getMany(keys);
    await this.wait();
    return this.inner.getMany(keys);
  }

  async entries(range: KeyRange): Promise<[Uint8Array, Uint8Array][]> {
    if (this.gated !== 'entries') return this.inner.entries(range);
    await this.wait();
    return this.inner.entries(range);
  }

  lastKey(range: KeyRange): Promise<Uint8Array | undefined> {
    return this.inner.lastKey(range);
  }

  view(): BackendView {
    return this.inner.view();
  }

  private async wait(): Promise<void> {
    const gate = this.gate;
    if (gate === undefined) return;
    gate.reached();
    await gate.promise;
  }
}
