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

const show = (t: Token): string => (t.kind === 'end' ? 'EOS' : `'${t.text}'`);

function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length > 0) throw new SelectorError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function checkValue(value: string): void {
  const errs = isValidLabelValue(value);
  if (errs.length > 0) throw new SelectorError(`unable to parse requirement: values[0]: Invalid value: ${JSON.stringify(value)}: ${errs.join('; ')}`);
}

/** Parses the `labelSelector` query parameter / `-l` flag. Throws SelectorError. */
export function parseLabelSelector(input: string): LabelSelectorQuery {
  const tokens = lex(input);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { kind: 'end' };
  const next = (): Token => tokens[pos++] ?? { kind: 'end' };
  const requirements: LabelRequirement[] = [];
  if (peek().kind === 'end') return { requirements };
  for (;;) {
    let t = next();
    if (t.kind === 'op' && t.text === '!') {
      const key = next();
      if (key.kind !== 'id') throw new SelectorError(`found ${show(key)}, expected: identifier after '!'`);
      checkKey(key.text);
      requirements.push({ key: key.text, operator: '!', values: [] });
    } else if (t.kind === 'id') {
      const key = t.text;
      checkKey(key);
      const op = peek();
      if (op.kind === 'end' || (op.kind === 'op' && op.text === ',')) {
        requirements.push({ key, operator: 'exists', values: [] });
      } else if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
        next();
        const v = peek();
        let value = '';
        if (v.kind === 'id') { value = v.text; next(); }
        else if (!(v.kind === 'end' || (v.kind === 'op' && v.text === ','))) throw new SelectorError(`found ${show(v)}, expected: identifier`);
        checkValue(value);
        requirements.push({ key, operator: op.text, values: [value] });
      } else if (op.kind === 'op' && (op.text === '<' || op.text === '>')) {
        next();
        const v = next();
        if (v.kind !== 'id' || !/^-?\d+$/.test(v.text)) throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
        requirements.push({ key, operator: op.text === '>' ? 'gt' : 'lt', values: [v.text] });
      } else if (op.kind === 'op' && (op.text === 'in' || op.text === 'notin')) {
        next();
        const open = next();
        if (open.kind !== 'op' || open.text !== '(') throw new SelectorError(`found ${show(open)}, expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v.kind === 'id') {
            checkValue(v.text);
            values.push(v.text);
            const sep = next();
            if (sep.kind === 'op' && sep.text === ')') break;
            if (!(sep.kind === 'op' && sep.text === ',')) throw new SelectorError(`found ${show(sep)}, expected: ',' or ')'`);
          } else if (v.kind === 'op' && v.text === ')' ) {
            // `in ()` and `in (a,)` carry an empty value, as in Kubernetes.
            values.push('');
            break;
          } else if (v.kind === 'op' && v.text === ',') {
            values.push('');
          } else {
            throw new SelectorError(`found ${show(v)}, expected: ',', ')' or identifier`);
          }
        }
        requirements.push({ key, operator: op.text, values });
      } else {
        throw new SelectorError(`found ${show(op)}, expected: '=', '!=', '==', 'in', notin'`);
      }
    } else {
      throw new SelectorError(`found ${show(t)}, expected: !, identifier, or 'end of string'`);
    }
    t = next();
    if (t.kind === 'end') break;
    if (!(t.kind === 'op' && t.text === ',')) throw new SelectorError(`found ${show(t)}, expected: ',' or 'end of string'`);
    if (peek().kind === 'end') throw new SelectorError(`found 'EOS', expected: !, identifier, or 'end of string'`);
  }
  return { requirements };
}

/**
 * The selector of a spec (`spec.selector` of Deployment, ReplicaSet, ...). `null`/`undefined`
 * selects nothing, `{}` selects everything, as in Kubernetes.
 */
export function labelSelectorFromObject(sel: LabelSelector | null | undefined): LabelSelectorQuery {
  if (sel === null || sel === undefined) return { requirements: [], nothing: true };
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    checkKey(key);
    checkValue(value);
    requirements.push({ key, operator: '=', values: [value] });
  }
  for (const expr of sel.matchExpressions ?? []) {
    checkKey(expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) throw new SelectorError(`for 'in', 'notin' operators, values set can't be empty`);
        values.forEach(checkValue);
        requirements.push({ key: expr.key, operator: expr.operator === 'In' ? 'in' : 'notin', values: [...values] });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) throw new SelectorError(`values set must be empty for exists and does not exist`);
        requirements.push({ key: expr.key, operator: expr.operator === 'Exists' ? 'exists' : '!', values: [] });
        break;
      default:
        throw new SelectorError(`${JSON.stringify(String(expr.operator))} is not a valid label selector operator`);
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
    if (!allowed.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
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
