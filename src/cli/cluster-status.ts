import { StoreClient } from '../store/client.ts';
import type { MemberStatus } from '../store/http-server.ts';
import type { AutopilotReport } from '../discovery/autopilot.ts';
import type { StoreClientTls } from '../store/wire.ts';
import { formatStructured, type OutputFormat } from './output.ts';

type Row = { endpoint: string } & ({ status: MemberStatus } | { error: string });

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('   ').trimEnd()).join('\n') + '\n';
}

/** Asks every endpoint for its own view and prints one line per member, kubectl style. */
export async function clusterStatus(endpoints: string[], output?: OutputFormat, tls?: StoreClientTls): Promise<string> {
  const client = new StoreClient({ endpoints, timeoutMs: 3_000, tls });
  try {
    const rows: Row[] = await Promise.all(
      endpoints.map(async (endpoint) => {
        try {
          return { endpoint, status: await client.status<MemberStatus>(endpoint) };
        } catch (error) {
          return { endpoint, error: (error as Error).message };
        }
      }),
    );
    if (output) return formatStructured(rows, output);
    const lines = [['ENDPOINT', 'NAME', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'REVISION', 'VOTERS', 'LEARNERS']];
    for (const row of rows) {
      if ('error' in row) {
        lines.push([row.endpoint, '-', 'unreachable', '-', '-', '-', '-', '-', '-', row.error]);
        continue;
      }
      const s = row.status;
      const learners = s.confState.learners.join(',');
      lines.push([row.endpoint, s.id, s.role, String(s.term), s.leader ?? '<none>', String(s.commit), String(s.applied), String(s.revision), s.confState.voters.join(','), learners || '<none>']);
    }
    return table(lines) + healthTable(rows);
  } finally {
    client.close();
  }
}

function ago(ms: number | null): string {
  if (ms === null) return 'never';
  return ms < 1_000 ? `${ms}ms` : `${(ms / 1_000).toFixed(1)}s`;
}

/** The leader's autopilot view (nodes formed with --bootstrap-expect): every member's role, last contact and health. */
function healthTable(rows: Row[]): string {
  const report = rows.flatMap((row) => ('status' in row ? [(row.status as { autopilot?: AutopilotReport | null }).autopilot] : [])).find((item) => item);
  if (!report) return '';
  const lines = [['MEMBER', 'ROLE', 'HEALTH', 'LAST CONTACT', 'BEHIND']];
  for (const member of report.members) lines.push([member.id, member.role, member.health, member.role === 'leader' ? '-' : ago(member.lastContactMs), String(member.trailingEntries)]);
  const action = report.lastAction ? `; last change: ${report.lastAction}` : '';
  return `\nAs seen by the leader ${report.leader} (autopilot keeps ${report.targetVoters} voters${action}):\n${table(lines)}`;
}
