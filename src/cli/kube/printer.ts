// kubectl's output for `get`: the server's Table printed in columns (kubectl's tabwriter: cells
// padded by 3 spaces, at least 6 wide, last column unpadded), wide-only columns (priority > 0)
// shown with -o wide, a NAMESPACE column first with -A; `-o name` as kind.group/name.

import { parseApiVersion } from '../../api/resources/catalog.ts';
import type { KubeObject, Table, TableRow } from '../../api/resources/types.ts';

const PADDING = 3;
const MIN_WIDTH = 6;

/** Lays out rows like Go's text/tabwriter with kubectl's settings. */
export function formatColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return; // the last cell of a line is not part of a column
      widths[i] = Math.max(widths[i] ?? MIN_WIDTH, cell.length + PADDING);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('').trimEnd() + '\n').join('');
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

function rowNamespace(row: TableRow): string {
  return row.object?.metadata.namespace ?? '';
}

export interface PrintTableOptions {
  wide?: boolean;
  /** -A: a NAMESPACE column first, from each row's object metadata. */
  withNamespace?: boolean;
  noHeaders?: boolean;
}

export function printTable(table: Table, options: PrintTableOptions = {}): string {
  const shown = table.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => options.wide === true || c.priority === 0);
  const rows: string[][] = [];
  if (options.noHeaders !== true) rows.push([...(options.withNamespace === true ? ['NAMESPACE'] : []), ...shown.map(({ c }) => c.name.toUpperCase())]);
  for (const row of table.rows) {
    rows.push([...(options.withNamespace === true ? [rowNamespace(row)] : []), ...shown.map(({ i }) => cellText(row.cells[i]))]);
  }
  return formatColumns(rows);
}

/** `pod/web`, `deployment.apps/web`: what `-o name` prints and `delete` echoes. */
export function resourceName(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const { group } = parseApiVersion(object.apiVersion);
  const kind = object.kind.toLowerCase();
  return `${group === '' ? kind : `${kind}.${group}`}/${object.metadata.name ?? ''}`;
}

/** kubectl's message for an empty list (on stderr). */
export function noResourcesMessage(namespace: string | undefined): string {
  return namespace === undefined || namespace === '' ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`;
}
