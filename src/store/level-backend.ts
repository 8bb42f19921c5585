import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Backend, BackendReader, BackendView, BatchOp, KeyRange } from './backend.ts';
import { plain } from './bytes.ts';
import { StoreClosedError, StoreCorruptError } from './errors.ts';

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type ReadOptions = { snapshot?: ReturnType<Db['snapshot']> };

/** The store's data in a LevelDB directory (classic-level). */
export class LevelBackend implements Backend {
  private db: Db | undefined;

  constructor(readonly location: string) {}

  async open(): Promise<void> {
    // Only an absent or empty directory may become a new store: anything else must already be
    // LevelDB, or it is somebody else's data that we must not write into.
    if (existsSync(this.location) && readdirSync(this.location).length > 0 && !existsSync(join(this.location, 'CURRENT'))) {
      throw new StoreCorruptError(this.location, 'the directory is not empty but holds no LevelDB database (no CURRENT file)');
    }
    mkdirSync(this.location, { recursive: true });
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(this.location, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      // A lock held by another process is not damage: moving the directory aside would be wrong advice.
      if (cause instanceof Error && (cause as { code?: unknown }).code === 'LEVEL_LOCKED') {
        throw new StoreClosedError(`${this.location} is in use by another process (${cause.message})`, { cause });
      }
      throw new StoreCorruptError(this.location, `LevelDB cannot open it (${String(cause ?? (error instanceof Error ? error.message : error))})`);
    }
    this.db = db;
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    await db?.close();
  }

  async write(ops: BatchOp[], options: { sync: boolean }): Promise<void> {
    await this.opened().batch(ops, { sync: options.sync });
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return reader(this.opened(), {}).get(key);
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return reader(this.opened(), {}).getMany(keys);
  }

  async entries(range: KeyRange): Promise<[Uint8Array, Uint8Array][]> {
    return reader(this.opened(), {}).entries(range);
  }

  async lastKey(range: KeyRange): Promise<Uint8Array | undefined> {
    return reader(this.opened(), {}).lastKey(range);
  }

  view(): BackendView {
    const db = this.opened();
    const snapshot = db.snapshot();
    return { ...reader(db, { snapshot }), close: () => snapshot.close() };
  }

  private opened(): Db {
    if (this.db === undefined) throw new StoreClosedError(`the LevelDB store in ${this.location} is closed`);
    return this.db;
  }
}

function reader(db: Db, options: ReadOptions): BackendReader {
  return {
    get: async (key) => {
      const value = await db.get(key, options);
      return value === undefined ? undefined : plain(value);
    },
    getMany: async (keys) => (keys.length === 0 ? [] : (await db.getMany(keys, options)).map((value) => (value === undefined ? undefined : plain(value)))),
    entries: async (range) => {
      const rows = await db.iterator({ ...options, gte: range.gte, lt: range.lt, limit: range.limit ?? -1 }).all();
      return rows.map(([key, value]) => [plain(key), plain(value)]);
    },
    lastKey: async (range) => {
      const [key] = await db.keys({ ...options, gte: range.gte, lt: range.lt, reverse: true, limit: 1 }).all();
      return key === undefined ? undefined : plain(key);
    },
  };
}
