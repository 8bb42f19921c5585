// Label selectors (`app=web,tier in (fe,be),!canary`) and field selectors
// (`spec.nodeName=pi-3,status.phase!=Running`) with Kubernetes' grammar and matching rules.
import type { ResourceInfo } from './catalog.ts';
import { isQualifiedName, isValidLabelValue } from './names.ts';
import type { KubeObject, LabelSelector } from './types.ts';

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

export type LabelOperator = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** All requirements must hold (AND). No requirements = matches everything; `nothing` = matches none. */
export interface LabelSelectorQuery {
  requirements: LabelRequirement[];
  nothing?: boolean;
}

export const EVERYTHING: LabelSelectorQuery = Object.freeze({ requirements: [] }) as LabelSelectorQuery;

type Token =
  | { kind: 'id'; text: string }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '<' | '>' | 'in' | 'notin' }
  | { kind: 'end' };

const SPECIAL = new Set(['=', '!', '(', ')', ',', '<', '>']);

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? '';
    if (/\s/.test(c)) { i++; continue; }
    if (c === '=' && input[i + 1] === '=') { out.push({ kind: 'op', text: '==' }); i += 2; continue; }
    if (c === '!' && input[i + 1] === '=') { out.push({ kind: 'op', text: '!=' }); i += 2; continue; }
    if (SPECIAL.has(c)) { out.push({ kind: 'op', text: c as '=' }); i++; continue; }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j] ?? '') && !/\s/.test(input[j] ?? '')) j++;
    const text = input.slice(i, j);
    if (text === 'in' || text === 'notin') out.push({ kind: 'op', text });
    else out.push({ kind: 'id', text });
    i = j;
  }
  out.push({ kind: 'end' });
  return out;
}

const show = (t: Token): string => (t.kind === 'end' ? "''" : `'${t.text}'`);

const REQ = 'unable to parse requirement: ';
const OPERATORS = 'in, notin, =, ==, !=, gt, lt';

function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  // Kubernetes prints this field path as "<nil>"; kept so messages match what kubectl users see.
  if (errs.length > 0) throw new SelectorError(`${REQ}<nil>: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function checkValue(key: string, value: string, index: number): void {
  const errs = isValidLabelValue(value);
  if (errs.length > 0) throw new SelectorError(`${REQ}values[${index}][${key}]: Invalid value: ${JSON.stringify(value)}: ${errs.join('; ')}`);
}

const isOp = (t: Token, ...texts: string[]): boolean => t.kind === 'op' && texts.includes(t.text);

/** Parses the `labelSelector` query parameter / `-l` flag. Throws SelectorError with Kubernetes' messages. */
export function parseLabelSelector(input: string): LabelSelectorQuery {
  const tokens = lex(input);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { kind: 'end' };
  const next = (): Token => tokens[pos++] ?? { kind: 'end' };
  const requirements: LabelRequirement[] = [];
  const first = peek();
  if (first.kind === 'end') return { requirements };
  if (first.kind !== 'id' && !isOp(first, '!')) throw new SelectorError(`found ${show(first)}, expected: !, identifier, or 'end of string'`);
  for (;;) {
    requirements.push(parseRequirement(next, peek));
    const t = next();
    if (t.kind === 'end') break;
    if (!isOp(t, ',')) throw new SelectorError(`found ${show(t)}, expected: ',' or 'end of string'`);
    const after = peek();
    if (after.kind !== 'id' && !isOp(after, '!')) throw new SelectorError(`found ${show(after)}, expected: identifier after ','`);
  }
  return { requirements };
}

function parseRequirement(next: () => Token, peek: () => Token): LabelRequirement {
  const t = next();
  if (isOp(t, '!')) {
    const key = next();
    if (key.kind !== 'id') throw new SelectorError(`${REQ}found ${show(key)}, expected: identifier`);
    checkKey(key.text);
    return { key: key.text, operator: '!', values: [] };
  }
  if (t.kind !== 'id') throw new SelectorError(`${REQ}found ${show(t)}, expected: identifier`);
  const key = t.text;
  checkKey(key);
  const op = peek();
  if (op.kind === 'end' || isOp(op, ',')) return { key, operator: 'exists', values: [] };
  if (op.kind !== 'op' || !['=', '==', '!=', '<', '>', 'in', 'notin'].includes(op.text)) {
    throw new SelectorError(`${REQ}found ${show(op)}, expected: ${OPERATORS}`);
  }
  next();
  if (op.text === '=' || op.text === '==' || op.text === '!=') {
    const v = peek();
    let value = '';
    if (v.kind === 'id') { value = v.text; next(); }
    else if (v.kind !== 'end' && !isOp(v, ',')) throw new SelectorError(`${REQ}found ${show(v)}, expected: identifier`);
    checkValue(key, value, 0);
    return { key, operator: op.text, values: [value] };
  }
  if (op.text === '<' || op.text === '>') {
    const v = peek();
    const value = v.kind === 'id' ? v.text : '';
    if (v.kind === 'id') next();
    checkValue(key, value, 0);
    if (!/^-?\d+$/.test(value)) throw new SelectorError(`${REQ}values[0]: Invalid value: ${JSON.stringify(value)}: for 'Gt', 'Lt' operators, the value must be an integer`);
    return { key, operator: op.text === '>' ? 'gt' : 'lt', values: [value] };
  }
  const open = next();
  if (!isOp(open, '(')) throw new SelectorError(`${REQ}found ${show(open)} expected: '('`);
  const values: string[] = [];
  // `in ()` and `in (a,)` carry an empty value, as in Kubernetes.
  let expectValue = true;
  for (;;) {
    const v = next();
    if (expectValue && v.kind === 'id') {
      checkValue(key, v.text, values.length);
      values.push(v.text);
      expectValue = false;
    } else if (isOp(v, ')')) {
      if (expectValue) values.push('');
      break;
    } else if (isOp(v, ',')) {
      if (expectValue) values.push('');
      expectValue = true;
    } else {
      throw new SelectorError(`${REQ}found ${show(v)}, expected: ',' or ')'`);
    }
  }
  return { key, operator: op.text === 'in' ? 'in' : 'notin', values };
}

/**
 * The selector of a spec (`spec.selector` of Deployment, ReplicaSet, ...). `null`/`undefined`
 * selects nothing, `{}` selects everything, as in Kubernetes.
 */
export function labelSelectorFromObject(sel: LabelSelector | null | undefined): LabelSelectorQuery {
  if (sel === null || sel === undefined) return { requirements: [], nothing: true };
  // Specs arrive as decoded JSON: check the shapes instead of trusting the declared type.
  const raw: unknown = sel;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SelectorError('a label selector must be an object');
  const requirements: LabelRequirement[] = [];
  const matchLabels: unknown = sel.matchLabels ?? {};
  if (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels)) throw new SelectorError('matchLabels must be a map of strings');
  for (const [key, value] of Object.entries(matchLabels)) {
    if (typeof value !== 'string') throw new SelectorError(`matchLabels[${key}] must be a string`);
    checkKey(key);
    checkValue(key, value, 0);
    requirements.push({ key, operator: '=', values: [value] });
  }
  const expressions: unknown = sel.matchExpressions ?? [];
  if (!Array.isArray(expressions)) throw new SelectorError('matchExpressions must be a list');
  for (const expr of expressions as unknown[]) {
    if (typeof expr !== 'object' || expr === null) throw new SelectorError('matchExpressions items must be objects');
    const { key, operator } = expr as { key?: unknown; operator?: unknown };
    const values: unknown = (expr as { values?: unknown }).values ?? [];
    if (typeof key !== 'string') throw new SelectorError('matchExpressions key must be a string');
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new SelectorError('matchExpressions values must be a list of strings');
    checkKey(key);
    const strings = values as string[];
    switch (operator) {
      case 'In':
      case 'NotIn':
        if (strings.length === 0) throw new SelectorError(`for 'in', 'notin' operators, values set can't be empty`);
        strings.forEach((v, i) => checkValue(key, v, i));
        requirements.push({ key, operator: operator === 'In' ? 'in' : 'notin', values: [...strings] });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (strings.length > 0) throw new SelectorError(`values set must be empty for exists and does not exist`);
        requirements.push({ key, operator: operator === 'Exists' ? 'exists' : '!', values: [] });
        break;
      default:
        throw new SelectorError(`${JSON.stringify(String(operator))} is not a valid label selector operator`);
    }
  }
  return { requirements };
}

function matchesOne(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(value ?? '');
    case '!=':
    case 'notin':
      return !has || !r.values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value ?? '')) return false;
      const n = Number(value);
      const bound = Number(r.values[0]);
      return r.operator === 'gt' ? n > bound : n < bound;
    }
  }
}

export function matchesLabels(sel: LabelSelectorQuery, labels: Record<string, string> | undefined): boolean {
  if (sel.nothing) return false;
  return sel.requirements.every((r) => matchesOne(r, labels ?? {}));
}

/** Back to the `-l` syntax, as a Scale's status.selector shows it. */
export function labelSelectorString(sel: LabelSelectorQuery): string {
  return sel.requirements.map((r) => {
    switch (r.operator) {
      case 'exists': return r.key;
      case '!': return `!${r.key}`;
      case 'in':
      case 'notin': return `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`;
      case 'gt': return `${r.key}>${r.values[0] ?? ''}`;
      case 'lt': return `${r.key}<${r.values[0] ?? ''}`;
      default: return `${r.key}${r.operator}${r.values[0] ?? ''}`;
    }
  }).join(',');
}

// ---- field selectors ----

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelectorQuery {
  requirements: FieldRequirement[];
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];

/** Fields each kind can be filtered on, beyond name and namespace (as the Kubernetes registries offer). */
const KIND_FIELDS: Record<string, readonly string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
    'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Secret: ['type'],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
    'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
    'reportingComponent', 'source', 'type'],
  Job: ['status.successful'],
  ReplicaSet: ['status.replicas'],
};

export function supportedFields(info: ResourceInfo): readonly string[] {
  return [...COMMON_FIELDS, ...(KIND_FIELDS[info.kind] ?? [])];
}

/** Splits on unescaped `sep`; a backslash escapes the next character. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\' && i + 1 < s.length) { cur += c + (s[i + 1] ?? ''); i++; continue; }
    if (c === sep) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined || !['\\', ',', '='].includes(n)) throw new SelectorError(`invalid field selector: invalid escape sequence in ${JSON.stringify(s)}`);
      out += n;
      i++;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped ${JSON.stringify(c)} in ${JSON.stringify(s)}`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses the `fieldSelector` parameter for a kind. Throws SelectorError for syntax or unknown fields. */
export function parseFieldSelector(input: string, info: ResourceInfo): FieldSelectorQuery {
  const requirements: FieldRequirement[] = [];
  if (input.trim() === '') return { requirements };
  const allowed = supportedFields(info);
  for (const term of splitUnescaped(input, ',')) {
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw new SelectorError(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = (m[1] ?? '').trim();
    const op = m[2] === '!=' ? '!=' : '=';
    if (field === '') throw new SelectorError(`invalid selector: '${input}'; can't understand '${term}'`);
    if (!allowed.includes(field)) {
      // Kinds with field conversions of their own answer like Kubernetes' conversion functions; the
      // others like its generic fallback.
      throw new SelectorError(Object.hasOwn(KIND_FIELDS, info.kind)
        ? `field label not supported: ${field}`
        : `${JSON.stringify(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    requirements.push({ field, operator: op, value: unescape(m[3] ?? '') });
  }
  return { requirements };
}

/** The value of a dotted path as a field selector sees it; absent fields read as "". */
export function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  if (path === 'spec.unschedulable' || path === 'spec.hostNetwork') return 'false';
  return '';
}

export function matchesFields(sel: FieldSelectorQuery, obj: KubeObject): boolean {
  return sel.requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === '='));
}
