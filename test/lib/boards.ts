import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testImages } from './images.ts';
import { type NetnsHost, NetnsLab } from './netns.ts';
import { waitFor } from './wait.ts';

const execFileAsync = promisify(execFile);

/** How long one engine may take to answer on its socket; ~1.3 s idle, far more on a loaded machine. */
const ENGINE_START_TIMEOUT_MS = 120_000;
/** SIGTERM grace before SIGKILL: dockerd stops its containerd and unmounts on the way out. */
const ENGINE_STOP_GRACE_MS = 20_000;

/**
 * One simulated board: a host of a NetnsLab (its own network namespace, routes and iptables)
 * plus its own Docker engine running inside that namespace, with its own data, state and socket.
 */
export interface Board {
  index: number;
  host: NetnsHost;
  /** The board's private directory: data-root, exec-root, pidfile, socket and engine log. */
  dir: string;
  /** For `docker -H` or DOCKER_HOST (e.g. a `bramble up` of this board). */
  dockerHost: string;
  /** The engine's default bridge (docker0 inside the board), unique to this board. */
  bridgeCidr: string;
  /** The dockerd pid (nsenter execs it, no fork: the spawned pid is the engine). */
  pid: number;
  /** Milliseconds from spawning dockerd to its first `docker info` answer. */
  startMs: number;
}

/** Mount points at or under `dir`, deepest first (so unmounting in order never hits a busy parent). */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    // mountinfo escapes blanks and backslashes as octal (\040)
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Pids of processes whose command line names `dir` (the engine's containerd and shims), except ours. */
function processesNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function unmountAllSync(dir: string): string[] {
  const errors: string[] = [];
  for (const point of mountsUnder(dir)) {
    try {
      execFileSync('umount', [point], { stdio: 'pipe' });
    } catch {
      try {
        execFileSync('umount', ['-l', point], { stdio: 'pipe' });
      } catch (error) {
        errors.push(`umount ${point}: ${(error as Error).message}`);
      }
    }
  }
  return errors;
}

const liveBeds = new Set<BoardBed>();
process.on('exit', () => {
  for (const bed of liveBeds) bed.destroySync();
});

/**
 * N boards on one machine: a NetnsLab of N hosts and a Docker engine in each. Everything is
 * recorded as it is made and removed by pid, path and name in destroy(), also when a test fails
 * or the runner exits. Board i's docker0 is 10.(150+i).<lab octet>.1/24: distinct from the host
 * engine's 172.17/16, the lab's 10.213/16, the cluster CIDR 10.42/16 and every other board.
 */
export class BoardBed {
  readonly boards: Board[] = [];
  /** Each engine by pid, with a promise of its exit taken at spawn (an exit is never missed). */
  private readonly children = new Map<number, { child: ChildProcess; exited: Promise<void> }>();
  private readonly dirs: string[] = [];

  private constructor(readonly lab: NetnsLab) {}

  /**
   * `plainHosts` more lab hosts without an engine come after the boards (`bed.plainHost(i)`): a
   * machine on the LAN outside the cluster, with no route to the pod subnets.
   */
  static async create(count: number, images: string[] = [testImages.amd64], plainHosts = 0): Promise<BoardBed> {
    if (count < 1 || count + plainHosts > 50) throw new Error(`BoardBed: count must be 1..50, got ${count}${plainHosts ? ` (and ${plainHosts} plain hosts, 50 in all at most)` : ''}`);
    const bed = new BoardBed(await NetnsLab.create(count + plainHosts));
    liveBeds.add(bed);
    try {
      const archive = await bed.saveImages(images);
      // Engines start and load in parallel: the start of a bed costs about one engine's start.
      const boards = await Promise.all(bed.lab.hosts.slice(0, count).map((host, index) => bed.startBoard(index, host, archive)));
      bed.boards.push(...boards);
    } catch (error) {
      await bed.destroy().catch(() => undefined);
      throw error;
    }
    return bed;
  }

  board(index: number): Board {
    const board = this.boards[index];
    if (!board) throw new Error(`BoardBed has no board ${index} (it has ${this.boards.length})`);
    return board;
  }

  /** The i-th lab host without an engine (create's `plainHosts`). */
  plainHost(index: number): NetnsHost {
    const host = this.lab.hosts[this.boards.length + index];
    if (!host || index < 0) throw new Error(`BoardBed has no plain host ${index}`);
    return host;
  }

  /** Runs the docker CLI against one board's engine. */
  async docker(board: Board, args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync('docker', ['-H', board.dockerHost, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const failed = error as { stderr?: string; message: string };
      throw new Error(`docker -H ${board.dockerHost} ${args.join(' ')} failed: ${failed.stderr?.trim() || failed.message}`);
    }
  }

  /** The engine's log so far (printed by tests when something fails). */
  engineLog(board: Board): string {
    try {
      return readFileSync(join(board.dir, 'dockerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private async newDir(prefix: string): Promise<string> {
    // Short: the engine's sockets live under it and a unix socket path is limited to 108 bytes.
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  private async saveImages(images: string[]): Promise<string> {
    const archive = join(await this.newDir('brbimg-'), 'images.tar');
    await execFileAsync('docker', ['save', '--output', archive, ...images]);
    return archive;
  }

  private async startBoard(index: number, host: NetnsHost, archive: string): Promise<Board> {
    const dir = await this.newDir('brb-');
    const labOctet = this.lab.bridgeIp.split('.')[2];
    const board: Board = { index, host, dir, dockerHost: `unix://${join(dir, 'docker.sock')}`, bridgeCidr: `10.${150 + index}.${labOctet}.0/24`, pid: 0, startMs: 0 };
    await this.runEngine(board);
    await this.docker(board, ['load', '--input', archive]);
    return board;
  }

  /** Spawns the board's dockerd (on its dir, as at the bed's start) and waits for its first answer. */
  private async runEngine(board: Board): Promise<void> {
    const { index, dir } = board;
    const socket = join(dir, 'docker.sock');
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    const started = Date.now();
    // nsenter --net only: `ip netns exec` would remount /sys and hide the cgroup mounts from dockerd.
    const child = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${board.host.netns}`,
        'dockerd',
        `--data-root=${join(dir, 'data')}`,
        `--exec-root=${join(dir, 'exec')}`,
        `--pidfile=${join(dir, 'docker.pid')}`,
        `--host=unix://${socket}`,
        `--bip=${board.bridgeCidr.replace(/0\/24$/, '1/24')}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    if (child.pid === undefined) throw new Error(`board ${index}: nsenter dockerd did not start`);
    this.children.set(child.pid, { child, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) });
    board.pid = child.pid;
    await waitFor(
      `board ${index}'s engine answering on ${socket}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`board ${index}: dockerd exited (${child.exitCode}):\n${this.engineLog(board)}`);
        return this.docker(board, ['info', '--format', '{{.DockerRootDir}}']).then(
          () => true,
          () => false,
        );
      },
      ENGINE_START_TIMEOUT_MS,
      100,
    );
    board.startMs = Date.now() - started;
  }

  /**
   * Restarts one board's engine as an upgrade or `systemctl restart docker` would: SIGTERM (its
   * containers stop, they are kept), then a new dockerd on the same dirs. `whileDown` runs between
   * the two (a test changes the board's iptables as a firewall reload would).
   */
  async restartEngine(board: Board, whileDown?: () => Promise<void>): Promise<void> {
    const engine = this.children.get(board.pid);
    if (!engine) throw new Error(`board ${board.index}: no engine of pid ${board.pid}`);
    await this.terminate(engine);
    this.children.delete(board.pid);
    await whileDown?.();
    await this.runEngine(board);
  }

  /** SIGTERM, SIGKILL after the grace; resolves once the engine exited. */
  private async terminate({ child, exited }: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ENGINE_STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Stops one engine gracefully: its containers first, then SIGTERM, SIGKILL after the grace. */
  private async stopEngine(board: Board): Promise<string[]> {
    const errors: string[] = [];
    const engine = this.children.get(board.pid);
    if (!engine || engine.child.exitCode !== null || engine.child.signalCode !== null) return errors;
    // The engine is this board's alone: all of its containers are the test's.
    const ids = (await this.docker(board, ['ps', '--all', '--quiet']).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length > 0) await this.docker(board, ['rm', '--force', ...ids]).catch((error: Error) => errors.push(error.message));
    await this.terminate(engine);
    return errors;
  }

  /** Removes what an engine left in its dir: processes naming it (containerd, shims), mounts, the dir. */
  private async scrub(dir: string): Promise<string[]> {
    const errors: string[] = [];
    for (const pid of processesNaming(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await waitFor(`the processes naming ${dir} gone`, () => processesNaming(dir).length === 0, 30_000, 100).catch((error: Error) =>
      errors.push(error.message),
    );
    errors.push(...unmountAllSync(dir));
    await rm(dir, { recursive: true, force: true }).catch((error: Error) => errors.push(`rm ${dir}: ${error.message}`));
    return errors;
  }

  /** Stops every engine, then removes their processes, mounts and dirs, and the lab (namespaces, veths, bridge). */
  async destroy(): Promise<void> {
    const errors = (await Promise.all(this.boards.map((board) => this.stopEngine(board)))).flat();
    // An engine that never answered (failed start) is not in boards: it goes by pid all the same.
    await Promise.all(
      [...this.children.values()].map(async ({ child, exited }) => {
        child.kill('SIGKILL');
        await exited;
      }),
    );
    this.children.clear();
    errors.push(...(await Promise.all(this.dirs.splice(0).map((dir) => this.scrub(dir)))).flat());
    await this.lab.destroy().catch((error: Error) => errors.push(error.message));
    liveBeds.delete(this);
    if (errors.length > 0) throw new Error(`BoardBed: cleanup incomplete:\n${errors.join('\n')}`);
  }

  /** The last resort at process exit: SIGKILL every engine, unmount, remove dirs; the lab cleans itself. */
  destroySync(): void {
    for (const { child } of this.children.values()) child.kill('SIGKILL');
    for (const dir of this.dirs.splice(0)) {
      for (const pid of processesNaming(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      unmountAllSync(dir);
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {}
    }
    liveBeds.delete(this);
  }
}

/** Runs the body with a fresh bed of `count` boards and always destroys it. */
export async function withBoards<T>(count: number, body: (bed: BoardBed) => Promise<T>, images?: string[]): Promise<T> {
  const bed = await BoardBed.create(count, images);
  try {
    return await body(bed);
  } finally {
    await bed.destroy();
  }
}

/** The engine's pid as its pidfile says (the test compares it with the spawned pid). */
export async function pidfilePid(board: Board): Promise<number> {
  return Number((await readFile(join(board.dir, 'docker.pid'), 'utf8')).trim());
}
