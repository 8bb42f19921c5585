// Commands as Raft entry data: CBOR (cbor-x), checked field by field when decoded. Decoding is
// strict and its failures are deterministic (the message depends on the bytes only), so a bad
// entry is refused identically by every replica.
import { Encoder } from 'cbor-x';
import { plain } from './bytes.ts';
import { InvalidCommandError } from './errors.ts';
import type { Command, Compare, CompareResult, CompareTarget, DeleteRangeRequest, KeySelector, PutRequest, RangeOptions, RangeRequest, RequestOp } from './types.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

/** Most comparisons, and most operations per branch, that one transaction may carry (as etcd). */
export const MAX_TXN_OPS = 128;

/** Checks `command` and encodes it for a Raft entry; throws InvalidCommandError for a malformed one. */
export function encodeCommand(command: Command): Uint8Array {
  return plain(cbor.encode(parseCommand(command)));
}

/** Decodes entry data; throws InvalidCommandError (with a message that depends only on the bytes). */
export function decodeCommand(data: Uint8Array): Command {
  let value: unknown;
  try {
    value = cbor.decode(data) as unknown;
  } catch {
    throw new InvalidCommandError(`the ${data.byteLength} bytes are not CBOR`);
  }
  try {
    return parseCommand(value);
  } catch (error) {
    // Keep the requestId when there is one, so the proposer still learns why it was refused.
    const requestId = typeof value === 'object' && value !== null ? (value as { requestId?: unknown }).requestId : undefined;
    if (error instanceof InvalidCommandError && typeof requestId === 'string') throw new InvalidCommandError(error.message, requestId);
    throw error;
  }
}

/** Validates a command-shaped value and returns a normalized copy with only the known fields. */
export function parseCommand(value: unknown): Command {
  const fields = object(value, 'command');
  const requestId = fields.requestId;
  if (requestId !== undefined && typeof requestId !== 'string') throw new InvalidCommandError('command.requestId must be a string');
  const withId = <T extends object>(command: T): T & { requestId?: string } => (requestId === undefined ? command : { ...command, requestId });
  switch (fields.op) {
    case 'put':
      return withId(parsePut(fields, 'put', ['requestId']));
    case 'deleteRange':
      return withId(parseDeleteRange(fields, 'deleteRange', ['requestId']));
    case 'compact':
      only(fields, 'compact', ['op', 'revision', 'requestId']);
      return withId({ op: 'compact' as const, revision: count(fields.revision, 'compact.revision') });
    case 'txn': {
      only(fields, 'txn', ['op', 'compare', 'success', 'failure', 'requestId']);
      const compare = list(fields.compare, 'txn.compare').map((item, i) => parseCompare(item, `txn.compare[${i}]`));
      const success = list(fields.success, 'txn.success').map((item, i) => parseRequestOp(item, `txn.success[${i}]`));
      const failure = list(fields.failure, 'txn.failure').map((item, i) => parseRequestOp(item, `txn.failure[${i}]`));
      return withId({ op: 'txn' as const, compare, success, failure });
    }
    default:
      throw new InvalidCommandError(`command.op must be put, deleteRange, txn or compact`);
  }
}

/** Validates read options (the same rules as a range inside a transaction). */
export function parseRangeOptions(value: unknown, where = 'range'): RangeOptions {
  const fields = object(value, where);
  only(fields, where, ['op', 'key', 'rangeEnd', 'prefix', 'limit', 'revision', 'countOnly', 'keysOnly']);
  const options: RangeOptions = selector(fields, where);
  if (fields.limit !== undefined) options.limit = count(fields.limit, `${where}.limit`);
  if (fields.revision !== undefined) options.revision = count(fields.revision, `${where}.revision`);
  if (fields.countOnly !== undefined) options.countOnly = flag(fields.countOnly, `${where}.countOnly`);
  if (fields.keysOnly !== undefined) options.keysOnly = flag(fields.keysOnly, `${where}.keysOnly`);
  return options;
}

function parseRequestOp(value: unknown, where: string): RequestOp {
  const fields = object(value, where);
  switch (fields.op) {
    case 'put':
      return parsePut(fields, where, []);
    case 'deleteRange':
      return parseDeleteRange(fields, where, []);
    case 'range':
      return { op: 'range', ...parseRangeOptions(fields, where) } as RangeRequest;
    default:
      throw new InvalidCommandError(`${where}.op must be put, deleteRange or range`);
  }
}

function parsePut(fields: Record<string, unknown>, where: string, extra: string[]): PutRequest {
  only(fields, where, ['op', 'key', 'value', 'prevKv', ...extra]);
  const put: PutRequest = { op: 'put', key: key(fields.key, `${where}.key`), value: bytes(fields.value, `${where}.value`) };
  if (fields.prevKv !== undefined) put.prevKv = flag(fields.prevKv, `${where}.prevKv`);
  return put;
}

function parseDeleteRange(fields: Record<string, unknown>, where: string, extra: string[]): DeleteRangeRequest {
  only(fields, where, ['op', 'key', 'rangeEnd', 'prefix', 'prevKv', ...extra]);
  const request = { op: 'deleteRange', ...selector(fields, where) } as DeleteRangeRequest;
  if (fields.prevKv !== undefined) request.prevKv = flag(fields.prevKv, `${where}.prevKv`);
  return request;
}

function parseCompare(value: unknown, where: string): Compare {
  const fields = object(value, where);
  only(fields, where, ['key', 'target', 'result', 'value']);
  const target = fields.target as CompareTarget;
  if (!['version', 'createRevision', 'modRevision', 'value'].includes(target)) {
    throw new InvalidCommandError(`${where}.target must be version, createRevision, modRevision or value`);
  }
  const result = fields.result as CompareResult;
  if (!['=', '!=', '<', '>'].includes(result)) throw new InvalidCommandError(`${where}.result must be =, !=, < or >`);
  const compareKey = key(fields.key, `${where}.key`);
  if (target === 'value') return { key: compareKey, target, result, value: bytes(fields.value, `${where}.value`) };
  return { key: compareKey, target, result, value: count(fields.value, `${where}.value`) };
}

function selector(fields: Record<string, unknown>, where: string): KeySelector {
  if (fields.prefix !== undefined) {
    if (fields.key !== undefined || fields.rangeEnd !== undefined) throw new InvalidCommandError(`${where}: give either prefix or key (and rangeEnd), not both`);
    return { prefix: bytes(fields.prefix, `${where}.prefix`) };
  }
  const start = key(fields.key, `${where}.key`);
  if (fields.rangeEnd === undefined) return { key: start };
  const rangeEnd = bytes(fields.rangeEnd, `${where}.rangeEnd`);
  if (rangeEnd.byteLength === 0) throw new InvalidCommandError(`${where}.rangeEnd must not be empty (omit it to select one key)`);
  return { key: start, rangeEnd };
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) {
    throw new InvalidCommandError(`${where} must be a map`);
  }
  return value as Record<string, unknown>;
}

function only(fields: Record<string, unknown>, where: string, allowed: string[]): void {
  for (const name of Object.keys(fields)) {
    if (fields[name] !== undefined && !allowed.includes(name)) throw new InvalidCommandError(`${where} has an unknown field "${name}"`);
  }
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidCommandError(`${where} must be a list`);
  return value;
}

function bytes(value: unknown, where: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidCommandError(`${where} must be bytes`);
  return plain(value);
}

function key(value: unknown, where: string): Uint8Array {
  const result = bytes(value, where);
  if (result.byteLength === 0) throw new InvalidCommandError(`${where} must not be empty`);
  return result;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InvalidCommandError(`${where} must be a non-negative integer`);
  return value;
}

function flag(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidCommandError(`${where} must be true or false`);
  return value;
}
