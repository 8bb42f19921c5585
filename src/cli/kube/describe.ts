// `bramble describe`: a person-readable page per object, in kubectl's layout (aligned "Key:  value"
// lines, nested sections indented by two spaces), with the object's Events at the end. Pods get
// kubectl's sections (containers, conditions); other kinds show their spec and status as nested
// fields, which is what kubectl's generic describer does too.

import { asPod, type ContainerState, type KubeObject } from '../../client/index.ts';

type Lines = string[];

function scalar(value: unknown): string {
  if (value === null || value === undefined || value === '') return '<none>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function pairs(out: Lines, indent: string, rows: [string, unknown][]): void {
  const width = Math.max(...rows.map(([k]) => k.length + 1));
  for (const [key, value] of rows) out.push(`${indent}${`${key}:`.padEnd(width)}  ${scalar(value)}`.trimEnd());
}

function mapLines(out: Lines, key: string, map: Record<string, string> | undefined, width: number): void {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const head = `${key}:`.padEnd(width);
  if (entries.length === 0) out.push(`${head}<none>`);
  entries.forEach(([k, v], i) => out.push(`${i === 0 ? head : ' '.repeat(width)}${k}=${v}`));
}

/** Nested fields, as kubectl's generic describer prints unstructured objects. */
function nested(out: Lines, indent: string, value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach((item) => {
      if (item !== null && typeof item === 'object') {
        out.push(`${indent}-`);
        nested(out, `${indent}  `, item);
      } else out.push(`${indent}- ${scalar(item)}`);
    });
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
        out.push(`${indent}${k}:`);
        nested(out, `${indent}  `, v);
      } else out.push(`${indent}${k}:  ${scalar(v)}`);
    }
  }
}

/** The one state a container is in (waiting, running or terminated) and its fields. */
function stateOf(state: ContainerState | undefined): { name?: string; fields: Record<string, unknown> } {
  if (state === undefined) return { fields: {} };
  if ('waiting' in state) return { name: 'waiting', fields: state.waiting };
  if ('running' in state) return { name: 'running', fields: state.running };
  if ('terminated' in state) return { name: 'terminated', fields: state.terminated };
  // A server may send an empty state (no container yet): print none, as kubectl does.
  return { fields: {} };
}

function podSections(out: Lines, pod: KubeObject): void {
  const { spec } = asPod(pod);
  const status = asPod(pod).status ?? {};
  pairs(out, '', [
    ['Service Account', spec.serviceAccountName],
    ['Node', status.hostIP === undefined ? spec.nodeName : `${spec.nodeName ?? ''}/${status.hostIP}`],
    ['Start Time', status.startTime],
    ['Status', status.phase],
    ...(status.reason === undefined ? [] : ([['Reason', status.reason]] as [string, unknown][])),
    ...(status.message === undefined ? [] : ([['Message', status.message]] as [string, unknown][])),
    ['IP', status.podIP],
  ]);
  out.push('Containers:');
  for (const c of spec.containers) {
    const cs = status.containerStatuses?.find((s) => s.name === c.name);
    out.push(`  ${scalar(c.name)}:`);
    const { name: stateName, fields: state } = stateOf(cs?.state);
    const rows: [string, unknown][] = [
      ['Container ID', cs?.containerID],
      ['Image', c.image],
      ['Image ID', cs?.imageID],
      ['Port', c.ports?.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ')],
      ['State', stateName === undefined ? undefined : stateName[0]?.toUpperCase() + stateName.slice(1)],
    ];
    if (state['reason'] !== undefined) rows.push(['  Reason', state['reason']]);
    if (state['exitCode'] !== undefined) rows.push(['  Exit Code', state['exitCode']]);
    if (state['startedAt'] !== undefined) rows.push(['  Started', state['startedAt']]);
    rows.push(['Ready', cs?.ready ?? false], ['Restart Count', cs?.restartCount ?? 0]);
    pairs(out, '    ', rows);
  }
  if (status.conditions !== undefined && status.conditions.length > 0) {
    out.push('Conditions:');
    const width = Math.max(4, ...status.conditions.map((c) => c.type.length)) + 2;
    out.push(`  ${'Type'.padEnd(width)}Status`);
    for (const c of status.conditions) out.push(`  ${c.type.padEnd(width)}${c.status}`);
  }
}

export interface EventSummary {
  type?: string;
  reason?: string;
  lastTimestamp?: string;
  count?: number;
  source?: { component?: string };
  reportingComponent?: string;
  message?: string;
}

export function describeObject(object: KubeObject, events: readonly EventSummary[] | undefined): string {
  const out: Lines = [];
  const meta = object.metadata;
  const width = 'Annotations:'.length + 2;
  out.push(`${'Name:'.padEnd(width)}${meta.name ?? ''}`);
  if (meta.namespace !== undefined) out.push(`${'Namespace:'.padEnd(width)}${meta.namespace}`);
  mapLines(out, 'Labels', meta.labels, width);
  mapLines(out, 'Annotations', meta.annotations, width);
  if (object.kind === 'Pod') podSections(out, object);
  else {
    out.push(`${'API Version:'.padEnd(width)}${object.apiVersion}`);
    out.push(`${'Kind:'.padEnd(width)}${object.kind}`);
    for (const section of ['spec', 'data', 'rules', 'roleRef', 'subjects', 'status']) {
      const value = object[section];
      if (value === undefined) continue;
      if (section === 'data' && object.kind === 'Secret') {
        out.push('Data');
        out.push('====');
        for (const [k, v] of Object.entries(value as Record<string, string>)) out.push(`${k}:  ${Buffer.from(v, 'base64').length} bytes`);
        continue;
      }
      out.push(`${section[0]?.toUpperCase()}${section.slice(1)}:`);
      nested(out, '  ', value);
    }
  }
  if (events !== undefined) {
    if (events.length === 0) out.push('Events:  <none>');
    else {
      out.push('Events:');
      const rows = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------'], ...events.map((e) => [e.type ?? '', e.reason ?? '', e.lastTimestamp ?? '', e.source?.component ?? e.reportingComponent ?? '', e.message ?? ''])];
      const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)) + 2);
      for (const r of rows) out.push(`  ${r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i] ?? 0) : cell)).join('')}`.trimEnd());
    }
  }
  return `${out.join('\n')}\n`;
}
