// What a pass actually writes: the plan's text without the own chains iptables already holds as
// planned, as kube-proxy's partial syncs do. A `--noflush` restore leaves a chain it does not
// declare alone, so an endpoint change of one Service rewrites that Service's chain, declares its
// new endpoint chains and deletes the old ones, and nothing else; with hundreds of Services the
// restore input shrinks from thousands of lines to a handful. The plan itself stays whole: drift
// is judged against all of it, and the full text is what the next plan is compared with.
import type { CurrentRules, RulesPlan } from './service-rules.ts';

interface Section {
  table: 'nat' | 'filter';
  declared: string[];
  jumps: string[];
  rules: Map<string, string[]>;
  deleted: string[];
}

function sectionsOf(text: string): Section[] {
  const sections: Section[] = [];
  let section: Section | undefined;
  for (const line of text.split('\n')) {
    if (line === '*nat' || line === '*filter') {
      section = { table: line === '*nat' ? 'nat' : 'filter', declared: [], jumps: [], rules: new Map(), deleted: [] };
      sections.push(section);
    } else if (!section) continue;
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0] ?? '';
      section.declared.push(chain);
      section.rules.set(chain, []);
    } else if (line.startsWith('-A ')) section.rules.get(line.split(' ')[1] ?? '')?.push(line);
    else if (line.startsWith('-I ') || line.startsWith('-D ')) section.jumps.push(line);
    else if (line.startsWith('-X ')) section.deleted.push(line.slice(3));
  }
  return sections;
}

const same = (a: readonly string[] | undefined, b: readonly string[]): boolean => a !== undefined && a.length === b.length && a.every((line, i) => line === b[i]);

/**
 * The restore input that turns `current` into what `plan` wants: every jump repair and stale chain
 * deletion, and only those own chains that are missing or hold other rules. Empty when nothing
 * differs. A table with nothing to write is left out (no empty transaction).
 */
export function changedChainsOnly(plan: RulesPlan, current: CurrentRules): string {
  const out: string[] = [];
  for (const section of sectionsOf(plan.text)) {
    const state = current[section.table];
    const deleted = new Set(section.deleted);
    const written = section.declared.filter((chain) => deleted.has(chain) || !state.chains.has(chain) || !same(state.rules.get(chain), section.rules.get(chain) ?? []));
    if (written.length === 0 && section.jumps.length === 0) continue;
    out.push(
      `*${section.table}`,
      ...written.map((chain) => `:${chain} - [0:0]`),
      ...section.jumps,
      ...written.flatMap((chain) => section.rules.get(chain) ?? []),
      ...section.deleted.map((chain) => `-X ${chain}`),
      'COMMIT',
    );
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
