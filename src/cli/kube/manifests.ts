// Reading what `apply -f`, `create -f` and `delete -f` are given, as kubectl reads it: files,
// directories (their .yaml/.yml/.json files, sorted, not recursive unless asked), `-` for stdin,
// multi-document YAML, and `kind: List` expanded into its items. Every error names the file and
// the document, so a typo in a 20-file course directory is found at once; nothing is sent to the
// API before all input has been read and checked.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../api/resources/types.ts';

export class ManifestError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`error: ${source}: ${message}`);
    this.name = 'ManifestError';
  }
}

export interface Manifest {
  object: KubeObject;
  /** "deploy.yaml", "deploy.yaml (document 2)", "stdin", "list.yaml (document 1, items[3])". */
  source: string;
}

export interface ReadManifestOptions {
  recursive?: boolean;
  /** What `-` reads (default: fd 0). */
  readStdin?: () => string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
// An alias bomb expands exponentially; kubectl's YAML library has a similar limit.
const MAX_ALIAS_COUNT = 100;

function filesOf(path: string, recursive: boolean): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ManifestError(path, 'the path does not exist');
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) {
      if (recursive) out.push(...filesOf(full, true));
    } else if (EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(full);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkObject(value: unknown, source: string): KubeObject {
  if (!isRecord(value)) throw new ManifestError(source, 'a manifest must be a mapping with apiVersion, kind and metadata');
  if (typeof value['apiVersion'] !== 'string' || value['apiVersion'] === '') throw new ManifestError(source, "apiVersion not set (e.g. apiVersion: v1, or apps/v1 for a Deployment)");
  if (typeof value['kind'] !== 'string' || value['kind'] === '') throw new ManifestError(source, 'kind not set (e.g. kind: Pod)');
  if (value['metadata'] !== undefined && !isRecord(value['metadata'])) throw new ManifestError(source, 'metadata must be a mapping');
  return { ...value, apiVersion: value['apiVersion'], kind: value['kind'], metadata: (value['metadata'] as KubeObject['metadata'] | undefined) ?? {} };
}

/** Parses one text (YAML or JSON, several documents allowed) into manifests. */
export function parseManifests(text: string, name: string): Manifest[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const many = docs.length > 1;
  const out: Manifest[] = [];
  docs.forEach((doc, i) => {
    const source = many ? `${name} (document ${i + 1})` : name;
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = first.linePos?.[0];
      const at = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
      throw new ManifestError(source, `invalid YAML${at}: ${first.message.split('\n')[0] ?? ''}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      throw new ManifestError(source, `refused: ${(err as Error).message}`);
    }
    if (value === null || value === undefined) return; // "---" separators and comment-only documents
    const object = checkObject(value, source);
    if (object.kind === 'List' || (object.kind.endsWith('List') && Array.isArray(object['items']))) {
      const items = object['items'];
      if (!Array.isArray(items)) throw new ManifestError(source, `a ${object.kind} needs items: [...]`);
      items.forEach((item: unknown, j) => out.push({ object: checkObject(item, `${source} items[${j}]`), source: `${source} items[${j}]` }));
      return;
    }
    out.push({ object, source });
  });
  return out;
}

/** Reads every `-f` argument in order; throws ManifestError on the first problem. */
export function readManifests(paths: readonly string[], options: ReadManifestOptions = {}): Manifest[] {
  if (paths.length === 0) throw new ManifestError('-f', 'give a file, a directory or - for stdin (e.g. -f deploy.yaml)');
  const out: Manifest[] = [];
  for (const path of paths) {
    if (path === '-') {
      const text = (options.readStdin ?? (() => readFileSync(0, 'utf8')))();
      out.push(...parseManifests(text, 'stdin'));
      continue;
    }
    const files = filesOf(path, options.recursive ?? false);
    if (files.length === 0) throw new ManifestError(path, 'the directory holds no .yaml, .yml or .json file');
    for (const file of files) out.push(...parseManifests(readFileSync(file, 'utf8'), file));
  }
  if (out.length === 0) throw new ManifestError(paths.join(', '), 'no objects in the input (empty files or only comments)');
  return out;
}
