import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from 'cbor-x';
import { ClassicLevel } from 'classic-level';
import { bootstrapState } from '../raft/bootstrap.ts';
import { limitSize } from '../raft/entries.ts';
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from '../raft/errors.ts';
import type { ConfState, Entry, HardState, Snapshot, Storage, StorageUpdate } from '../raft/types.ts';

/** The data dir holds something that is not a consistent Bramble Raft log; nothing was changed. */
export class StorageCorruptError extends Error {
  constructor(dir: string, problem: string) {
    super(
      `the Raft log in ${dir} is damaged: ${problem}. Bramble refuses to start on it rather than lose or rewrite ` +
        'data. Move the directory aside together with the rest of the data dir and start this node with an empty ' +
        '--data-dir and --join <client address of a member> under a new --name (a member must not come back under ' +
        'its old name without its log), or restore it from a backup.',
    );
    this.name = 'StorageCorruptError';
  }
}

/** Another process holds the log open (LevelDB's lock); nothing is wrong with the data. */
export class StorageInUseError extends Error {
  constructor(dir: string, detail: string) {
    super(`the Raft log in ${dir} is in use by another process (${detail}). Is another bramble up running with this --data-dir? Stop it first, or give this node a data dir of its own.`);
    this.name = 'StorageInUseError';
  }
}

const formatVersion = 1;
const markerFile = 'BRAMBLE-RAFT-LOG';
const keys = {
  format: Buffer.from('m:format'),
  hardState: Buffer.from('m:hard'),
  // Index and term of the last discarded entry: firstIndex() - 1, answerable by term().
  compactedTo: Buffer.from('m:compacted'),
  snapshot: Buffer.from('m:snap'),
  entryPrefix: 0x65, // 'e' + big-endian u64 index, so LevelDB keeps entries in log order
};

function entryKey(index: number): Buffer {
  const key = Buffer.alloc(9);
  key[0] = keys.entryPrefix;
  key.writeBigUInt64BE(BigInt(index), 1);
  return key;
}

interface SnapshotRecord {
  index: number;
  term: number;
  confState: ConfState;
  file: string;
  sha256: string;
}

type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/**
 * The Raft log, hard state and snapshot on disk: LevelDB for the log and metadata (one atomic
 * batch per save, fsynced when the Ready says so), one file per snapshot (written to a temp
 * name, fsynced, renamed, directory fsynced). Everything the core reads synchronously (the
 * unsnapshotted log tail, the latest snapshot) is also kept in memory; compaction bounds it.
 */
export class LevelStorage implements Storage {
  private writeChain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly db: ClassicLevel<Buffer, Buffer>,
    private hard: HardState,
    private compacted: { index: number; term: number },
    /** entries[i] has index compacted.index + 1 + i. */
    private log: Entry[],
    private snap: Snapshot,
    private snapRecord: SnapshotRecord | null,
  ) {}

  /**
   * Opens (or creates) the log in `dir`. A new log for a first member of a new cluster starts
   * bootstrapped (src/raft bootstrapState: a snapshot at index 1 holding `initialConfState` and
   * `initialSnapshotData`); with no voters (a node that will join) it starts empty. Throws
   * StorageCorruptError for anything inconsistent.
   */
  static async open(
    dir: string,
    initialConfState: ConfState = { voters: [], learners: [] },
    initialSnapshotData: Uint8Array = new Uint8Array(),
  ): Promise<LevelStorage> {
    const isNew = !existsSync(join(dir, markerFile));
    if (isNew && existsSync(dir) && readdirSync(dir).length > 0) {
      throw new StorageCorruptError(dir, `the directory is not empty but has no ${markerFile} marker`);
    }
    mkdirSync(join(dir, 'snapshots'), { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'log'), {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: isNew,
    });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as Error).cause;
      // A lock held elsewhere is not damage: "move the directory aside" would be the wrong advice.
      if (cause instanceof Error && (cause as { code?: unknown }).code === 'LEVEL_LOCKED') throw new StorageInUseError(dir, cause.message);
      throw new StorageCorruptError(dir, `LevelDB cannot open it (${cause ?? (error as Error).message})`);
    }
    try {
      if (isNew) return await LevelStorage.create(dir, db, initialConfState, initialSnapshotData);
      return await LevelStorage.load(dir, db);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }

  private static async create(dir: string, db: ClassicLevel<Buffer, Buffer>, confState: ConfState, data: Uint8Array): Promise<LevelStorage> {
    const bootstrapped = confState.voters.length > 0 ? bootstrapState(confState) : null;
    const snapshot: Snapshot = bootstrapped
      ? { metadata: bootstrapped.snapshot.metadata, data }
      : { metadata: { index: 0, term: 0, confState }, data: new Uint8Array() };
    const hard = bootstrapped?.hardState ?? { term: 0, vote: null, commit: 0 };
    const compacted = { index: snapshot.metadata.index, term: snapshot.metadata.term };
    const storage = new LevelStorage(dir, db, hard, compacted, [], snapshot, null);
    const record: SnapshotRecord =
      data.byteLength > 0 ? storage.writeSnapshotFile(snapshot) : { index: compacted.index, term: compacted.term, confState, file: '', sha256: '' };
    storage.snapRecord = record.file ? record : null;
    await db.batch(
      [
        { type: 'put', key: keys.format, value: encode(formatVersion) },
        { type: 'put', key: keys.hardState, value: encode(hard) },
        { type: 'put', key: keys.compactedTo, value: encode(compacted) },
        { type: 'put', key: keys.snapshot, value: encode(record) },
      ],
      { sync: true },
    );
    writeDurably(dir, markerFile, Buffer.from(`bramble raft log, format ${formatVersion}\n`));
    return storage;
  }

  private static async load(dir: string, db: ClassicLevel<Buffer, Buffer>): Promise<LevelStorage> {
    const read = async <T>(key: Buffer, what: string): Promise<T> => {
      const raw = await db.get(key);
      if (raw === undefined) throw new StorageCorruptError(dir, `the ${what} record is missing`);
      try {
        return decode(raw) as T;
      } catch {
        throw new StorageCorruptError(dir, `the ${what} record does not decode`);
      }
    };
    const format = await read<number>(keys.format, 'format');
    if (format !== formatVersion) throw new StorageCorruptError(dir, `unknown format version ${String(format)} (this Bramble reads ${formatVersion})`);
    const hard = await read<HardState>(keys.hardState, 'hard state');
    const compacted = await read<{ index: number; term: number }>(keys.compactedTo, 'compaction point');
    const snapRecord = await read<SnapshotRecord>(keys.snapshot, 'snapshot metadata');

    let data: Uint8Array = new Uint8Array();
    if (snapRecord.file) {
      const path = join(dir, 'snapshots', snapRecord.file);
      if (!existsSync(path)) throw new StorageCorruptError(dir, `snapshot file ${snapRecord.file} is missing`);
      data = readFileSync(path);
      const digest = createHash('sha256').update(data).digest('hex');
      if (digest !== snapRecord.sha256) throw new StorageCorruptError(dir, `snapshot file ${snapRecord.file} does not match its checksum`);
    }

    const log: Entry[] = [];
    try {
      for await (const [key, value] of db.iterator({ gte: entryKey(0), lte: entryKey(Number.MAX_SAFE_INTEGER) })) {
        const index = Number(key.readBigUInt64BE(1));
        const expected = compacted.index + 1 + log.length;
        if (index !== expected) throw new StorageCorruptError(dir, `log entry ${expected} is missing (next stored entry is ${index})`);
        let stored: { term: number; type: Entry['type']; data: Uint8Array };
        try {
          stored = decode(value) as typeof stored;
        } catch {
          throw new StorageCorruptError(dir, `log entry ${index} does not decode`);
        }
        const previousTerm = log.length > 0 ? log[log.length - 1]!.term : compacted.term;
        if (stored.term < previousTerm) throw new StorageCorruptError(dir, `log entry ${index} has term ${stored.term}, lower than the entry before it`);
        log.push({ index, term: stored.term, type: stored.type, data: stored.data });
      }
    } catch (error) {
      if (error instanceof StorageCorruptError) throw error;
      throw new StorageCorruptError(dir, `reading the log failed (${(error as Error).message})`);
    }
    const lastIndex = compacted.index + log.length;
    if (hard.commit > lastIndex) throw new StorageCorruptError(dir, `the commit index ${hard.commit} is beyond the last entry ${lastIndex}`);
    if (snapRecord.index > lastIndex || compacted.index > snapRecord.index) {
      throw new StorageCorruptError(dir, `snapshot ${snapRecord.index}, compaction point ${compacted.index} and last entry ${lastIndex} do not fit together`);
    }
    const snapshot: Snapshot = { metadata: { index: snapRecord.index, term: snapRecord.term, confState: snapRecord.confState }, data };
    return new LevelStorage(dir, db, hard, compacted, log, snapshot, snapRecord.file ? snapRecord : null);
  }

  async close(): Promise<void> {
    await this.writeChain;
    await this.db.close();
  }

  // --- read side (synchronous, from memory) ---

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hard }, confState: this.snap.metadata.confState };
  }

  firstIndex(): number {
    return this.compacted.index + 1;
  }

  lastIndex(): number {
    return this.compacted.index + this.log.length;
  }

  term(index: number): number {
    if (index === this.compacted.index) return this.compacted.term;
    if (index < this.compacted.index) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    return this.log[index - this.compacted.index - 1]!.term;
  }

  entries(lo: number, hi: number, maxSizeBytes?: number): Entry[] {
    if (lo <= this.compacted.index) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    return limitSize(this.log.slice(lo - this.compacted.index - 1, hi - this.compacted.index - 1), maxSizeBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // --- write side: each call is one LevelDB batch, applied in call order ---

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writeChain.then(work);
    this.writeChain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  save(update: StorageUpdate): Promise<void> {
    return this.enqueue(async () => {
      const ops: BatchOp[] = [];
      let next = { hard: this.hard, compacted: this.compacted, log: this.log, snap: this.snap, snapRecord: this.snapRecord };
      if (update.snapshot) next = { ...next, ...this.snapshotOps(update.snapshot, ops, next.log) };
      if (update.entries.length > 0) next = { ...next, log: this.appendOps(update.entries, ops, next.compacted, next.log) };
      if (update.hardState) {
        next = { ...next, hard: { ...update.hardState } };
        ops.push({ type: 'put', key: keys.hardState, value: encode(next.hard) });
      }
      if (ops.length > 0) await this.db.batch(ops, { sync: update.mustSync || update.snapshot !== undefined });
      this.hard = next.hard;
      this.compacted = next.compacted;
      this.log = next.log;
      this.replaceSnapshot(next.snap, next.snapRecord);
    });
  }

  append(entries: Entry[]): Promise<void> {
    return this.save({ entries, mustSync: true });
  }

  setHardState(hardState: HardState): Promise<void> {
    return this.save({ hardState, entries: [], mustSync: true });
  }

  applySnapshot(snapshot: Snapshot): Promise<void> {
    return this.save({ snapshot, entries: [], mustSync: true });
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    return this.enqueue(async () => {
      if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
      if (index > this.lastIndex()) throw new UnavailableError(index);
      const snapshot: Snapshot = { metadata: { index, term: this.term(index), confState }, data };
      const record = this.writeSnapshotFile(snapshot);
      await this.db.batch([{ type: 'put', key: keys.snapshot, value: encode(record) }], { sync: true });
      this.replaceSnapshot(snapshot, record);
      return snapshot;
    });
  }

  compact(index: number): Promise<void> {
    return this.enqueue(async () => {
      if (index <= this.compacted.index) throw new CompactedError(index);
      if (index > this.snap.metadata.index) {
        throw new Error(`raft storage: cannot compact to ${index}, beyond the latest snapshot at ${this.snap.metadata.index}`);
      }
      const compacted = { index, term: this.term(index) };
      const ops: BatchOp[] = [{ type: 'put', key: keys.compactedTo, value: encode(compacted) }];
      for (let i = this.compacted.index + 1; i <= index; i++) ops.push({ type: 'del', key: entryKey(i) });
      await this.db.batch(ops, { sync: true });
      this.log = this.log.slice(index - this.compacted.index);
      this.compacted = compacted;
    });
  }

  private snapshotOps(snapshot: Snapshot, ops: BatchOp[], log: Entry[]) {
    const current = this.snap.metadata.index;
    if (snapshot.metadata.index <= current) throw new SnapshotOutOfDateError(snapshot.metadata.index, current);
    const record = this.writeSnapshotFile(snapshot);
    // A snapshot replaces the whole log.
    for (let i = 0; i < log.length; i++) ops.push({ type: 'del', key: entryKey(this.compacted.index + 1 + i) });
    const compacted = { index: snapshot.metadata.index, term: snapshot.metadata.term };
    ops.push({ type: 'put', key: keys.snapshot, value: encode(record) });
    ops.push({ type: 'put', key: keys.compactedTo, value: encode(compacted) });
    const hard = { ...this.hard, commit: Math.max(this.hard.commit, snapshot.metadata.index) };
    ops.push({ type: 'put', key: keys.hardState, value: encode(hard) });
    return { compacted, log: [] as Entry[], snap: snapshot, snapRecord: record, hard };
  }

  private appendOps(entries: Entry[], ops: BatchOp[], compacted: { index: number; term: number }, log: Entry[]): Entry[] {
    const fresh = entries.filter((entry) => entry.index > compacted.index);
    if (fresh.length === 0) return log;
    const first = fresh[0]!.index;
    const lastIndex = compacted.index + log.length;
    if (first > lastIndex + 1) throw new Error(`raft storage: appending at ${first} would leave a gap after ${lastIndex}`);
    for (let i = 1; i < fresh.length; i++) {
      if (fresh[i]!.index !== first + i) throw new Error('raft storage: appended entries are not contiguous');
    }
    const newLast = first + fresh.length - 1;
    // Entries of the old log beyond the new last one belong to a replaced suffix.
    for (let i = newLast + 1; i <= lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
    for (const entry of fresh) ops.push({ type: 'put', key: entryKey(entry.index), value: encode({ term: entry.term, type: entry.type, data: entry.data }) });
    return [...log.slice(0, first - compacted.index - 1), ...fresh];
  }

  private writeSnapshotFile(snapshot: Snapshot): SnapshotRecord {
    const file = `snap-${snapshot.metadata.term}-${snapshot.metadata.index}.bin`;
    writeDurably(join(this.dir, 'snapshots'), file, snapshot.data);
    return {
      index: snapshot.metadata.index,
      term: snapshot.metadata.term,
      confState: snapshot.metadata.confState,
      file,
      sha256: createHash('sha256').update(snapshot.data).digest('hex'),
    };
  }

  /** Switches to the new snapshot and deletes the older file, once the metadata points at the new one. */
  private replaceSnapshot(snapshot: Snapshot, record: SnapshotRecord | null): void {
    const old = this.snapRecord;
    this.snap = snapshot;
    this.snapRecord = record;
    if (old && old.file !== record?.file) rmSync(join(this.dir, 'snapshots', old.file), { force: true });
  }
}

/** temp file, fsync, rename, fsync the directory: the file is either whole or absent after a crash. */
function writeDurably(dir: string, name: string, data: Uint8Array): void {
  const temp = join(dir, `.${name}.tmp`);
  writeFileSync(temp, data);
  const fd = openSync(temp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, name));
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
