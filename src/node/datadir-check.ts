// Checks a data dir for damage before `bramble up` opens it for real.
//
// Why on a copy: LevelDB changes a directory merely by opening it (it rotates its info LOG,
// replays the write-ahead log into a new table, writes a new MANIFEST and deletes the old files),
// and by default it *skips* write-ahead-log records that fail their checksum, reporting them only
// in that info LOG. Opening the real directory to find out whether it is damaged would therefore
// rewrite it, and could silently drop data. Instead the Raft log and the store are opened on a
// clone made of hard links (LevelDB never writes into an existing file: every change is a new
// file or a rename, so the originals' bytes cannot change), fully loaded, and LevelDB's info LOG
// of the clone is read for the records it dropped. Only a data dir that passes is opened for real.

import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LevelStorage } from '../raftnode/level-storage.ts';
import { MvccStore } from '../store/index.ts';
import { META_FORMAT_KEY } from '../store/layout.ts';

/** The data dir (or part of it) is damaged or in use; nothing in it was changed. */
export class DataDirCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirCheckError';
  }
}

const checkDirName = '.startup-check';

const refusal = 'Bramble refuses to start on it rather than lose or rewrite data.';
/** What to do, per part: a store is rebuilt from the Raft log, a lost log needs a new member. */
const storeAdvice = `${refusal} Move that directory aside: at the next start the node rebuilds the store from its Raft log (or restore it from a backup).`;
const raftAdvice =
  `${refusal} Restore it from a backup, or move the whole data dir aside and start this node with an empty --data-dir ` +
  'and --join <client address of a member> under a new --name.';

/** Lines LevelDB writes to its info LOG when recovery skipped bytes it could not read. */
const droppedRecords = /dropping \d+ bytes|ignoring error|corruption/i;

/**
 * Opens the data dir's Raft log (`raft/`) and store (`store/`) on a hard-link clone inside
 * `dataDir/.startup-check` and removes the clone again. Throws DataDirCheckError naming the real
 * directory when either is damaged; a data dir without them (a new node) passes.
 */
export async function checkDataDir(dataDir: string): Promise<void> {
  const raftDir = join(dataDir, 'raft');
  const storeDir = join(dataDir, 'store');
  if (!existsSync(raftDir) && !existsSync(storeDir)) return;
  if (!existsSync(raftDir)) {
    // A fresh log here would bring back a voter that forgot what it acknowledged (unsafe for
    // Raft, and the leader, which remembers its old progress, would never bring it up to date),
    // and the store would skip the new log's entries as already applied.
    throw new DataDirCheckError(
      `the Raft log ${raftDir} is missing, but ${storeDir} is there: this data dir belonged to a member whose log is gone, ` +
        'and Bramble will not start a fresh log over it. Restore raft/ from a backup, or move the whole data dir aside and ' +
        'start this node with an empty --data-dir and --join <client address of a member> under a new --name.',
    );
  }
  const cloneRoot = join(dataDir, checkDirName);
  // A clone left by a check that was killed is ours to remove; it holds only links.
  rmSync(cloneRoot, { recursive: true, force: true });
  const real = (text: string) => text.replaceAll(cloneRoot, dataDir);
  try {
    if (existsSync(raftDir)) {
      const clone = join(cloneRoot, 'raft');
      cloneTree(raftDir, clone);
      try {
        const storage = await LevelStorage.open(clone);
        await storage.close();
      } catch (error) {
        throw new DataDirCheckError(real(messageOf(error)));
      }
      assertNothingDropped(join(clone, 'log'), raftDir, 'the Raft log', real, raftAdvice);
    }
    if (existsSync(storeDir)) {
      const clone = join(cloneRoot, 'store');
      cloneTree(storeDir, clone);
      // MvccStore initializes a database without data; one that existed before must have had some.
      if (existsSync(join(storeDir, 'CURRENT')) && !(await hasFormatRecord(clone))) {
        assertNothingDropped(clone, storeDir, 'the MVCC store', real, storeAdvice);
        throw new DataDirCheckError(
          `the MVCC store in ${storeDir} is damaged: it is a LevelDB database without any Bramble data (no m/format record; its files were truncated or emptied). ${storeAdvice}`,
        );
      }
      try {
        const store = await MvccStore.open(clone);
        await store.close();
      } catch (error) {
        throw new DataDirCheckError(real(messageOf(error)));
      }
      assertNothingDropped(clone, storeDir, 'the MVCC store', real, storeAdvice);
    }
  } finally {
    rmSync(cloneRoot, { recursive: true, force: true });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** False when the LevelDB in `dir` opens but has no store format record (an emptied database). */
async function hasFormatRecord(dir: string): Promise<boolean> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  try {
    await db.open();
    return (await db.get(META_FORMAT_KEY)) !== undefined;
  } catch {
    // Whatever LevelDB cannot open, MvccStore.open below reports precisely.
    return true;
  } finally {
    await db.close().catch(() => undefined);
  }
}

function assertNothingDropped(levelDir: string, realDir: string, what: string, real: (text: string) => string, advice: string): void {
  const infoLog = join(levelDir, 'LOG');
  if (!existsSync(infoLog)) return;
  const dropped = readFileSync(infoLog, 'utf8')
    .split('\n')
    .filter((line) => droppedRecords.test(line));
  if (dropped.length === 0) return;
  throw new DataDirCheckError(
    `${what} in ${realDir} is damaged: LevelDB could not read part of its write-ahead log (${real(dropped[0]!.replace(/^\S+ \S+ /, '').trim())}). ${advice}`,
  );
}

/** Recreates the tree under `to` with hard links to the files of `from` (copies where links are impossible). */
function cloneTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) cloneTree(source, target);
    else if (entry.isFile()) {
      try {
        linkSync(source, target);
      } catch {
        // File systems without hard links (FAT on some SD cards): a copy checks the same bytes.
        copyFileSync(source, target);
      }
    }
  }
}
