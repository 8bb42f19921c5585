// Node selector terms (node affinity) and label selectors (pod affinity, spread), compiled once
// per pod being scheduled.
import { labelSelectorFromObject, matchesLabels, type LabelSelector, type LabelSelectorQuery, type NodeSelectorRequirement, type NodeSelectorTerm } from '../../client/index.ts';
import type { SchedNode } from './state.ts';

/** An invalid selector (the API does not validate them all yet) matches nothing, as Kubernetes treats it. */
export function compileSelector(sel: LabelSelector | undefined): LabelSelectorQuery {
  try {
    return labelSelectorFromObject(sel ?? null);
  } catch {
    return { requirements: [], nothing: true };
  }
}

export function selects(sel: LabelSelectorQuery, labels: Record<string, string> | undefined): boolean {
  return matchesLabels(sel, labels);
}

function requirementHolds(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || values.length !== 1) return false;
      return r.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** A term holds when all its expressions (labels) and fields (only metadata.name, as Kubernetes) hold; an empty term matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: SchedNode): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) if (!requirementHolds(r, labels[r.key])) return false;
  for (const r of fields) if (r.key !== 'metadata.name' || !requirementHolds(r, node.metadata.name)) return false;
  return true;
}
