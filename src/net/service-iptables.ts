// The Service proxy's hands on the kernel: `iptables-save` to read what is there, `iptables-restore
// --noflush` to write Bramble's chains in one transaction per table, and `conntrack -D` to forget
// UDP flows to endpoints that went away (UDP has no connection end: without it a client that keeps
// sending, a DNS resolver for one, stays pinned to a dead pod). The same iptables on PATH as the
// rest of src/net and as Docker (legacy or nft, whichever the alternatives point to). A command
// prefix runs them elsewhere: tests use `ip netns exec <ns>`.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { type CurrentRules, parseSave, type PlannedPort } from './service-rules.ts';

const execFileAsync = promisify(execFile);

export interface IptablesIo {
  save(table: 'nat' | 'filter'): Promise<string>;
  /** Applies restore input with --noflush; `test` only parses and checks it (iptables-restore --test). */
  restore(text: string, options?: { test?: boolean }): Promise<void>;
}

function command(prefix: readonly string[], name: string, args: string[]): [string, string[]] {
  const [first, ...rest] = [...prefix, name, ...args];
  return [first ?? name, rest];
}

export function iptablesIo(prefix: readonly string[] = []): IptablesIo {
  return {
    save: async (table) => {
      const [file, args] = command(prefix, 'iptables-save', ['-t', table]);
      return (await execFileAsync(file, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
    },
    restore: (text, options) =>
      new Promise<void>((resolve, reject) => {
        // -w: wait for the xtables lock rather than fail while Docker or another tool holds it.
        const [file, args] = command(prefix, 'iptables-restore', ['--noflush', '-w', '5', ...(options?.test ? ['--test'] : [])]);
        const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore exited ${code}: ${stderr.trim()}`))));
        // An early exit (a parse error, the lock wait) while a long input is still being written
        // is EPIPE on stdin: the exit code above reports it; unheard, it would end the process.
        child.stdin.on('error', () => undefined);
        child.stdin.end(text);
      }),
  };
}

export async function readCurrent(io: IptablesIo): Promise<CurrentRules> {
  const [nat, filter] = await Promise.all([io.save('nat'), io.save('filter')]);
  return { nat: parseSave(nat), filter: parseSave(filter) };
}

/** Runs `conntrack` with the arguments: 'done' (also when no flow matched), or 'missing' without the binary. */
export type ConntrackCommand = (args: string[]) => Promise<'done' | 'missing'>;

export function conntrackCommand(prefix: readonly string[] = []): ConntrackCommand {
  return async (conntrackArgs) => {
    const [file, args] = command(prefix, 'conntrack', conntrackArgs);
    try {
      await execFileAsync(file, args, { encoding: 'utf8' });
      return 'done';
    } catch (error) {
      const failed = error as { code?: number | string; stderr?: string };
      if (failed.code === 'ENOENT') return 'missing';
      // conntrack exits 1 with "0 flow entries have been deleted" when nothing matched.
      if (failed.code === 1 && /0 flow entries/.test(failed.stderr ?? '')) return 'done';
      throw error;
    }
  };
}

const portKey = (p: PlannedPort): string => `${p.name}/${p.protocol}`;

/**
 * The `conntrack -D` argument lists that forget stale UDP flows between two applied plans: flows
 * NATed to an endpoint a port no longer uses (its ClusterIP and its NodePort), and, for a port that
 * had no endpoint and now has one, the flows to it that were made while it had none (they were
 * never NATed and would keep going nowhere).
 */
export function staleUdpFlows(before: readonly PlannedPort[], after: readonly PlannedPort[]): string[][] {
  const now = new Map(after.map((p) => [portKey(p), p]));
  const flows: string[][] = [];
  for (const old of before) {
    if (old.protocol !== 'UDP') continue;
    const current = now.get(portKey(old));
    const kept = new Set(current && current.clusterIP === old.clusterIP ? current.endpoints : []);
    for (const endpoint of old.endpoints) {
      if (kept.has(endpoint)) continue;
      const [ip = '', port = ''] = endpoint.split(':');
      const target = ['--dst-nat', ip, '--reply-port-src', port];
      flows.push(['-D', '-p', 'udp', '--orig-dst', old.clusterIP, '--orig-port-dst', String(old.port), ...target]);
      if (old.nodePort !== undefined) flows.push(['-D', '-p', 'udp', '--orig-port-dst', String(old.nodePort), ...target]);
    }
  }
  const had = new Map(before.map((p) => [portKey(p), p]));
  for (const port of after) {
    const previous = had.get(portKey(port));
    if (port.protocol !== 'UDP' || port.endpoints.length === 0 || !previous || previous.endpoints.length > 0) continue;
    flows.push(['-D', '-p', 'udp', '--orig-dst', port.clusterIP, '--orig-port-dst', String(port.port)]);
    if (port.nodePort !== undefined) flows.push(['-D', '-p', 'udp', '--orig-port-dst', String(port.nodePort)]);
  }
  return flows;
}
