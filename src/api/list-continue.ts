// The `continue` token of a paged list, as Kubernetes' apiserver encodes it (storage/continue.go):
// base64url (no padding) of {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after prefix>"}.
// Every page of one list is read at the first page's revision `rv`, so the pages are one snapshot.
// The decoder fails with Kubernetes' messages (DecodeContinue's), and keeps a token inside the
// listed prefix: a token cannot walk (`..`) from one namespace's or resource's keys into another's.
import { goJsonSyntaxError } from './go-json-syntax.ts';
import { gone, type Status } from './resources/index.ts';

const TOKEN_VERSION = 'meta.k8s.io/v1';
const INVALID = 'continue key is not valid';

/** Kubernetes' 410 when the token's revision was compacted; the answer carries a token for the rest at the current revision. */
export const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, ' +
  'or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an ' +
  'inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** Where a continued list resumes: the full store key to start at, and the revision to read (-1: the current one). */
export interface ContinuePoint {
  startKey: string;
  revision: number;
}

/** The token for the page that starts at `startKey` (a key under `prefix`), read at `revision`. */
export function encodeContinue(startKey: string, prefix: string, revision: number): string {
  if (!startKey.startsWith(prefix) || startKey === prefix) throw new Error(`continue: key ${JSON.stringify(startKey)} is not under ${JSON.stringify(prefix)}`);
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, rv: revision, start: startKey.slice(prefix.length) }), 'utf8').toString('base64url');
}

/** The 410 for a token whose revision was compacted, with Kubernetes' inconsistent-continue token (rv -1). */
export function expiredContinue(point: ContinuePoint, prefix: string): Status {
  const status = gone(INCONSISTENT_CONTINUE);
  status.metadata = { continue: encodeContinue(point.startKey, prefix, -1) };
  return status;
}

/** A token this server did not make (or cannot read): Kubernetes answers 400 "invalid continue token: <message>". */
export class InvalidContinueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidContinueError';
  }
}

/** Decodes a client's token for a list of `prefix`; InvalidContinueError with Kubernetes' message otherwise. */
export function decodeContinue(token: string, prefix: string): ContinuePoint {
  const fields = parseToken(token);
  if (fields.v !== TOKEN_VERSION) throw invalid(`${INVALID}: server does not recognize this encoded version ${fields.v}`);
  if (fields.rv === 0) throw invalid(`${INVALID}: incorrect encoded start resourceVersion (version ${TOKEN_VERSION})`);
  if (fields.start === '') throw invalid(`${INVALID}: encoded start key empty (version ${TOKEN_VERSION})`);
  const key = fields.start.startsWith('/') ? fields.start : `/${fields.start}`;
  if (!isCleanPath(key)) throw invalid(`${INVALID}: ${fields.start}`);
  return { startKey: prefix + key.slice(1), revision: fields.rv };
}

function invalid(message: string): InvalidContinueError {
  return new InvalidContinueError(message);
}

interface TokenFields {
  v: string;
  rv: number;
  start: string;
}

/** base64url, then JSON into {v, rv, start} with Go's zero values for what is absent or null. */
function parseToken(token: string): TokenFields {
  const bytes = decodeRawBase64Url(token);
  // Go checks the syntax of the whole input first, with its own words; JSON.parse accepts exactly what passes.
  const syntax = goJsonSyntaxError(bytes);
  if (syntax !== undefined) throw invalid(`${INVALID}: ${syntax}`);
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (value === null) return { v: '', rv: 0, start: '' };
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${INVALID}: json: cannot unmarshal ${jsonType(value)} into Go value of type storage.continueToken`);
  const fields: TokenFields = { v: '', rv: 0, start: '' };
  // Go matches JSON keys to fields case-insensitively; the last duplicate wins.
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    if (field === null || (lower !== 'v' && lower !== 'rv' && lower !== 'start')) continue;
    if (lower === 'rv') fields.rv = int64Field(field);
    else if (typeof field === 'string') fields[lower] = field;
    else throw invalid(`${INVALID}: json: cannot unmarshal ${jsonType(field)} into Go struct field continueToken.${lower} of type string`);
  }
  return fields;
}

function int64Field(value: unknown): number {
  if (typeof value !== 'number') throw invalid(`${INVALID}: json: cannot unmarshal ${jsonType(value)} into Go struct field continueToken.rv of type int64`);
  if (!Number.isSafeInteger(value)) throw invalid(`${INVALID}: json: cannot unmarshal number ${String(value)} into Go struct field continueToken.rv of type int64`);
  return value;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

const BASE64URL = /^[A-Za-z0-9_-]$/;

/** Go's base64.RawURLEncoding.DecodeString: the same alphabet, no padding, CR and LF skipped, the same error positions. */
function decodeRawBase64Url(token: string): Buffer {
  let digits = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token[i] ?? '';
    if (c === '\r' || c === '\n') continue;
    if (!BASE64URL.test(c)) throw invalid(`${INVALID}: illegal base64 data at input byte ${i}`);
    digits++;
  }
  if (digits % 4 === 1) throw invalid(`${INVALID}: illegal base64 data at input byte ${token.length - 1}`);
  return Buffer.from(token.replace(/[\r\n]/g, ''), 'base64url');
}

/** Go's path.Clean(p) === p for a path that starts with '/': no empty, '.' or '..' segment, no trailing '/'. */
function isCleanPath(p: string): boolean {
  if (p === '/') return true;
  return p
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
