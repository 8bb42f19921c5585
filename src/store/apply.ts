// Executes one decoded command against the staged batch. Everything that can refuse a command
// is checked before its first change, so a refused command changes nothing; the outcome depends
// only on the command and the replicated state, never on timing or the local machine.
import { compareBytes, toKeyString } from './bytes.ts';
import { MAX_TXN_OPS } from './command.ts';
import { liveAt } from './key-index.ts';
import { describeKey, fetchValues, inBounds, readRange, selectLive, toBounds, type Bounds } from './range.ts';
import type { ApplyErrorCode, ApplyResponse, Command, Compare, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RequestOp, ResponseOp } from './types.ts';
import type { WriteTxn } from './write-txn.ts';

/** Reads inside a batch see every staged change: "the latest revision" is the end of history. */
const LATEST = Number.MAX_SAFE_INTEGER;

/** Hands out the sub-revisions of the revision a write command creates. */
class RevisionWriter {
  readonly revision: number;
  private sub = 0;

  constructor(private readonly tx: WriteTxn) {
    this.revision = tx.state.revision + 1;
  }

  next(): number {
    return this.sub++;
  }

  /** A command that changed something takes the revision; one that changed nothing does not. */
  finish(): void {
    if (this.sub > 0) this.tx.state.revision = this.revision;
  }
}

export async function execute(tx: WriteTxn, command: Command): Promise<ApplyResponse> {
  switch (command.op) {
    case 'put': {
      const writer = new RevisionWriter(tx);
      const response = await put(tx, writer, command);
      writer.finish();
      return { ...response, header: { revision: tx.state.revision } };
    }
    case 'deleteRange': {
      const writer = new RevisionWriter(tx);
      const response = await deleteRange(tx, writer, command);
      writer.finish();
      return { ...response, header: { revision: tx.state.revision } };
    }
    case 'txn':
      return txn(tx, command.compare, command.success, command.failure);
    case 'compact':
      if (command.revision > tx.state.revision) {
        return refuse(tx, 'future-revision', `cannot compact at revision ${command.revision}: the store is at revision ${tx.state.revision}`);
      }
      if (command.revision <= tx.state.compactedRevision) {
        return refuse(tx, 'compacted', `revision ${command.revision} is already compacted (compaction point ${tx.state.compactedRevision})`);
      }
      tx.compact(command.revision);
      return { op: 'compact', header: { revision: tx.state.revision } };
  }
}

export function refuse(tx: WriteTxn, code: ApplyErrorCode, message: string): ApplyResponse {
  return { op: 'error', header: { revision: tx.state.revision }, error: { code, message } };
}

async function put(tx: WriteTxn, writer: RevisionWriter, request: PutRequest): Promise<Omit<PutResponse, 'header'>> {
  const previous = tx.put(request.key, request.value, writer.revision, writer.next());
  if (request.prevKv !== true || previous === undefined) return { op: 'put' };
  const [prevKv] = await fetchValues(tx.source, [{ key: toKeyString(request.key), entry: previous }]);
  return { op: 'put', prevKv: prevKv! };
}

async function deleteRange(tx: WriteTxn, writer: RevisionWriter, request: DeleteRangeRequest): Promise<Omit<DeleteRangeResponse, 'header'>> {
  const doomed = selectLive(tx, toBounds(request), LATEST);
  const prevKvs = request.prevKv === true ? await fetchValues(tx.source, doomed) : [];
  for (const { key } of doomed) tx.delete(key, writer.revision, writer.next());
  return { op: 'deleteRange', deleted: doomed.length, prevKvs };
}

async function txn(tx: WriteTxn, compare: Compare[], success: RequestOp[], failure: RequestOp[]): Promise<ApplyResponse> {
  if (compare.length > MAX_TXN_OPS || success.length > MAX_TXN_OPS || failure.length > MAX_TXN_OPS) {
    return refuse(tx, 'too-many-ops', `a transaction may hold at most ${MAX_TXN_OPS} comparisons and ${MAX_TXN_OPS} operations per branch`);
  }
  for (const [name, ops] of [['success', success], ['failure', failure]] as const) {
    const duplicate = duplicateWrite(ops);
    if (duplicate !== undefined) return refuse(tx, 'duplicate-key', `the ${name} branch writes key ${duplicate} more than once`);
  }
  const succeeded = await holds(tx, compare);
  const ops = succeeded ? success : failure;
  for (const op of ops) {
    if (op.op !== 'range' || op.revision === undefined || op.revision === 0) continue;
    if (op.revision > tx.state.revision) return refuse(tx, 'future-revision', `cannot read revision ${op.revision}: the store is at revision ${tx.state.revision}`);
    if (op.revision < tx.state.compactedRevision) {
      return refuse(tx, 'compacted', `cannot read revision ${op.revision}: history before revision ${tx.state.compactedRevision} is compacted`);
    }
  }
  const writer = new RevisionWriter(tx);
  const responses: ResponseOp[] = [];
  for (const op of ops) {
    if (op.op === 'put') responses.push({ ...(await put(tx, writer, op)), header: { revision: writer.revision } });
    else if (op.op === 'deleteRange') responses.push({ ...(await deleteRange(tx, writer, op)), header: { revision: writer.revision } });
    else {
      const revision = op.revision !== undefined && op.revision > 0 ? op.revision : LATEST;
      responses.push({ op: 'range', header: { revision: writer.revision }, ...(await readRange(tx, tx.source, op, revision)) });
    }
  }
  writer.finish();
  // Nested headers say the transaction's revision, as the outer one does.
  for (const response of responses) response.header = { revision: tx.state.revision };
  return { op: 'txn', header: { revision: tx.state.revision }, succeeded, responses };
}

/** The first key that a branch puts twice, or puts inside one of its deleteRanges (etcd refuses both). */
function duplicateWrite(ops: RequestOp[]): string | undefined {
  const puts = new Map<string, Uint8Array>();
  const deletes: Bounds[] = [];
  for (const op of ops) {
    if (op.op === 'put') {
      const name = toKeyString(op.key);
      if (puts.has(name)) return describeKey(op.key);
      puts.set(name, op.key);
    } else if (op.op === 'deleteRange') deletes.push(toBounds(op));
  }
  for (const [name, key] of puts) if (deletes.some((bounds) => inBounds(bounds, name))) return describeKey(key);
  return undefined;
}

async function holds(tx: WriteTxn, compare: Compare[]): Promise<boolean> {
  for (const condition of compare) {
    const name = toKeyString(condition.key);
    const entry = liveAt(tx.history(name), LATEST);
    let order: number;
    if (condition.target === 'value') {
      if (entry === undefined) return false;
      const [kv] = await fetchValues(tx.source, [{ key: name, entry }]);
      order = compareBytes(kv!.value, condition.value);
    } else {
      const actual = entry === undefined ? 0 : condition.target === 'modRevision' ? entry.revision : entry[condition.target];
      order = Math.sign(actual - condition.value);
    }
    const ok = condition.result === '=' ? order === 0 : condition.result === '!=' ? order !== 0 : condition.result === '<' ? order < 0 : order > 0;
    if (!ok) return false;
  }
  return true;
}
