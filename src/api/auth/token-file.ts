// Static bearer tokens in Kubernetes' --token-auth-file format, one user per line:
//   token,user,uid,"group1,group2"
// (at least three columns; the fourth, optional, is a comma-separated group list, quoted when it
// holds more than one). Lines starting with '#' and blank lines are skipped, an extension that lets
// the file explain itself. The file is re-read when it changes, so `bramble token create` works
// without a restart; a broken edit keeps the previous table and is reported, never fatal.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { UserInfo } from './user.ts';

export class TokenFileError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    detail: string,
  ) {
    super(`token file ${path}, line ${line}: ${detail} (expected: token,user,uid,"group1,group2")`);
    this.name = 'TokenFileError';
  }
}

/** A new random token: 32 bytes, base64url (43 characters, no CSV-special characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Splits one CSV record (RFC 4180 quoting: "a,b" and "" for a quote); leading spaces trimmed as Kubernetes does. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('unterminated quoted field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i];
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new Error(`unexpected character after a quoted field at column ${i + 1}`);
    } else {
      const end = line.indexOf(',', i);
      field = end === -1 ? line.slice(i) : line.slice(i, end);
      if (field.includes('"')) throw new Error('a quote inside an unquoted field');
      i = end === -1 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

/** Parses the whole file's text; throws TokenFileError naming the first bad line. */
export function parseTokenFile(text: string, path: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] ?? '';
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    let fields: string[];
    try {
      fields = parseCsvLine(line);
    } catch (err) {
      throw new TokenFileError(path, n + 1, (err as Error).message);
    }
    if (fields.length < 3) throw new TokenFileError(path, n + 1, `${fields.length} column(s), at least 3 are needed`);
    const [token = '', username = '', uid = ''] = fields;
    if (token === '') throw new TokenFileError(path, n + 1, 'empty token');
    if (username === '') throw new TokenFileError(path, n + 1, 'empty user name');
    const groups = (fields[3] ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '');
    entries.push({ token, user: uid === '' ? { username, groups } : { username, uid, groups } });
  }
  return entries;
}

/** One CSV line for an entry, quoting the group list (what `bramble token create` appends). */
export function formatTokenLine(entry: TokenEntry): string {
  const quote = (s: string): string => (/[",\s]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [entry.token, quote(entry.user.username), quote(entry.user.uid ?? ''), quote(entry.user.groups.join(','))].join(',');
}

/** Tokens are looked up by their SHA-256 so the table never compares secrets byte by byte in a data-dependent way. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenTable {
  private readonly byDigest = new Map<string, { digest: Buffer; user: UserInfo }>();

  constructor(entries: readonly TokenEntry[]) {
    for (const entry of entries) {
      const d = digest(entry.token);
      // Kubernetes keeps the last line for a duplicate token; so do we.
      this.byDigest.set(d.toString('hex'), { digest: d, user: entry.user });
    }
  }

  get size(): number {
    return this.byDigest.size;
  }

  lookup(token: string): UserInfo | undefined {
    const d = digest(token);
    const hit = this.byDigest.get(d.toString('hex'));
    return hit !== undefined && timingSafeEqual(hit.digest, d) ? hit.user : undefined;
  }
}

export interface TokenFileOptions {
  /** How often at most the file's mtime/size is checked (default 1000 ms). */
  recheckIntervalMs?: number;
  /** Told about a reload that failed; the previous table stays in use. Default: console.error. */
  onReloadError?: (err: Error) => void;
  now?: () => number;
}

/** A token file kept current: read at construction (errors throw), re-read when it changes. */
export class TokenFile {
  private table: TokenTable;
  private stamp: string;
  private checkedAtMs: number;
  private readonly recheckIntervalMs: number;
  private readonly onReloadError: (err: Error) => void;
  private readonly now: () => number;

  constructor(
    readonly path: string,
    options: TokenFileOptions = {},
  ) {
    this.recheckIntervalMs = options.recheckIntervalMs ?? 1000;
    this.onReloadError = options.onReloadError ?? ((err) => console.error(err.message));
    this.now = options.now ?? Date.now;
    this.stamp = this.statStamp();
    this.table = new TokenTable(parseTokenFile(readFileSync(path, 'utf8'), path));
    this.checkedAtMs = this.now();
  }

  lookup(token: string): UserInfo | undefined {
    this.maybeReload();
    return this.table.lookup(token);
  }

  get size(): number {
    return this.table.size;
  }

  private statStamp(): string {
    const st = statSync(this.path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  }

  private maybeReload(): void {
    const now = this.now();
    if (now - this.checkedAtMs < this.recheckIntervalMs) return;
    this.checkedAtMs = now;
    try {
      const stamp = this.statStamp();
      if (stamp === this.stamp) return;
      this.table = new TokenTable(parseTokenFile(readFileSync(this.path, 'utf8'), this.path));
      this.stamp = stamp;
    } catch (err) {
      this.onReloadError(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
