// The parts bench:podnet and bench:service share: the probe programs (tcp-probe.mjs, dns-probe.mjs)
// run with nsenter in a pod's or a board's network namespace, and line monitors (`ip monitor
// route`, `xtables-monitor -e`) that timestamp what a board's kernel gets as it gets it, and the
// pair of pods on two boards both benches measure between.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kinds } from '../../src/client/index.ts';
import { adminClient } from '../../test/lib/api-node.ts';
import { boardPod, containerOf, type PodView, runningPod, startBoardCluster } from '../../test/lib/board-cluster.ts';
import type { Board, BoardBed } from '../../test/lib/boards.ts';
import { SLEEPER_COMMAND, testImages } from '../../test/lib/images.ts';
import type { ProcessGroup } from '../../test/lib/processes.ts';
import { waitFor } from '../../test/lib/wait.ts';

const execFileAsync = promisify(execFile);
export const TCP_PROBE = resolve(import.meta.dirname, 'tcp-probe.mjs');
export const DNS_PROBE = resolve(import.meta.dirname, 'dns-probe.mjs');

/** A network namespace to run a probe in: a pod's (/proc/<pid>/ns/net) or a board's (/var/run/netns/<name>). */
export type NetnsPath = string;

export const boardNet = (board: Board): NetnsPath => `/var/run/netns/${board.host.netns}`;

/** The network namespace of a container on a board's own engine. */
export async function containerNet(bed: BoardBed, board: Board, containerId: string): Promise<NetnsPath> {
  const pid = Number((await bed.docker(board, ['inspect', '--format', '{{.State.Pid}}', containerId])).trim());
  return `/proc/${pid}/ns/net`;
}

/** Runs a probe program to its end in `net`; its last stdout line is JSON. */
export async function runProbe<T>(net: NetnsPath, program: string, args: string[]): Promise<T> {
  const { stdout } = await execFileAsync('nsenter', [`--net=${net}`, process.execPath, program, ...args], { encoding: 'utf8', timeout: 300_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/**
 * Starts tcp-probe's server on `ip` in `net` (a random port) and waits until it listens; the caller
 * kills it by the returned process.
 */
export async function startTcpServer(net: NetnsPath, ip: string, label: string): Promise<{ port: number; server: ChildProcess }> {
  const port = 40_000 + Math.floor(Math.random() * 20_000);
  const server = spawn('nsenter', [`--net=${net}`, process.execPath, TCP_PROBE, 'server', ip, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  server.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await waitFor(`the ${label} server listening`, () => {
    if (server.exitCode !== null) throw new Error(`the ${label} server exited (${server.exitCode})`);
    return out.includes('listening');
  }, 60_000, 50);
  return { port, server };
}

/**
 * A line-printing monitor in a board's namespace (`ip monitor route`, `xtables-monitor -e`): each
 * whole line goes to `onLine` with the performance.now() of the chunk that completed it.
 */
export class LineMonitor {
  private readonly child: ChildProcess;

  constructor(board: Board, command: string[], onLine: (line: string, atMs: number) => void) {
    // stdbuf: xtables-monitor block-buffers a pipe, which would delay every timestamp.
    this.child = spawn('nsenter', [`--net=${boardNet(board)}`, 'stdbuf', '-oL', ...command], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const at = performance.now();
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) onLine(line, at);
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

export interface PodPair {
  /** Board 0's data dir (its kubeconfig and admin credentials). */
  dataDir: string;
  client: PodView;
  server: PodView;
  clientNet: NetnsPath;
  serverNet: NetnsPath;
}

/**
 * `bramble up` on every board of the bed, then a sleeping pod on board 0 (the client) and one on
 * board 1 (the server), running, with their network namespaces: what bench:podnet and
 * bench:service measure between.
 */
export async function startPodPair(group: ProcessGroup, bed: BoardBed): Promise<PodPair> {
  const cluster = await startBoardCluster(group, bed);
  const dataDir = cluster.members[0]!.process.dataDir;
  const api = adminClient(dataDir);
  await api.create(Kinds.pods, boardPod('bench-client', 'b0', testImages.amd64, SLEEPER_COMMAND));
  await api.create(Kinds.pods, boardPod('bench-server', 'b1', testImages.amd64, SLEEPER_COMMAND));
  const [client, server] = [await runningPod(dataDir, 'bench-client'), await runningPod(dataDir, 'bench-server')];
  return { dataDir, client, server, clientNet: await containerNet(bed, bed.board(0), containerOf(client)), serverNet: await containerNet(bed, bed.board(1), containerOf(server)) };
}
