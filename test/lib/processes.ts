import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports.ts';

/**
 * How long a test waits for a `bramble up` to start (ready, leader, API, agent). Only a guard
 * against a hang: on a busy machine (BRAMBLE_TEST_LOAD, other suites at once) a start that takes
 * a few seconds when idle has been seen to take over a minute.
 */
export const STARTUP_TIMEOUT_MS = 180_000;

export const brambleBin = resolve(import.meta.dirname, '..', '..', 'bin', 'bramble.mjs');

export interface ProcessSpec {
  /** Names of the ports this process needs, e.g. ["peer", "api"]; each gets a free port. */
  portNames?: string[];
  /** Command line after the executable; gets the ports and data dir chosen for the process. */
  args: (context: { ports: Record<string, number>; dataDir: string; name: string }) => string[];
  /** The executable and its leading arguments; defaults to Node running the bramble CLI. */
  command?: string[];
  env?: Record<string, string>;
  /** Working directory (default: the test's). */
  cwd?: string;
  /** Run inside this network namespace (`ip netns exec`), e.g. a host of a NetnsLab. */
  netns?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One spawned process; its ports and data dir survive kill and restart, like a board's disk. */
export class ManagedProcess {
  readonly log: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  private logWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  /** Index in `log` of the current start's first line: waitForLog never answers from an earlier life. */
  private currentStartLine = 0;
  starts = 0;

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly ports: Record<string, number>,
    private readonly spec: ProcessSpec,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const [executable, ...leading] = this.spec.command ?? [process.execPath, brambleBin];
    const args = [...leading, ...this.spec.args({ ports: this.ports, dataDir: this.dataDir, name: this.name })];
    const [file, fileArgs] = this.spec.netns
      ? ['ip', ['netns', 'exec', this.spec.netns, executable!, ...args]]
      : [executable!, args];
    const child = spawn(file, fileArgs, {
      env: { ...process.env, ...this.spec.env },
      ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts++;
    this.child = child;
    this.currentStartLine = this.log.length;
    this.record(`--- start #${this.starts}: pid ${child.pid} ---`);
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.record(line);
      });
      stream?.on('end', () => {
        if (pending) this.record(pending);
      });
    }
    this.exited = new Promise((resolveExit) => {
      child.on('close', (code, signal) => {
        this.record(`--- exit: code ${code} signal ${signal} ---`);
        resolveExit({ code, signal });
      });
      child.on('error', (error) => {
        this.record(`--- spawn error: ${error.message} ---`);
        resolveExit({ code: null, signal: null });
      });
    });
  }

  private record(line: string): void {
    this.log.push(line);
    this.logWaiters = this.logWaiters.filter((waiter) => {
      if (!waiter.pattern.test(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }

  /**
   * Resolves with the first log line of the current start (already seen or future) matching the
   * pattern. Lines of earlier starts do not count: after a restart, "ready" means ready again.
   */
  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.log.slice(this.currentStartLine).find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => {
        this.logWaiters = this.logWaiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`${this.name}: no log line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolveLine(line);
      };
      this.logWaiters.push({ pattern, resolve: done });
    });
  }

  waitForExit(): Promise<ExitStatus> {
    return this.exited;
  }

  /** Sends the signal (default SIGKILL: a board losing power) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.child?.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if the process has not exited after the grace period. */
  async stop(gracePeriodMs = 5_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), gracePeriodMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  /** Starts again with the same ports and data dir. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    this.start();
  }
}

const execFileAsync = promisify(execFile);

/**
 * A `bramble up` that served the API ran a node agent, whose containers carry its data dir as
 * their scope label (see DockerRuntimeOptions.scope): those, and only those, are removed by id.
 */
async function removeAgentContainers(dataDir: string): Promise<void> {
  if (!existsSync(join(dataDir, 'kubeconfig'))) return;
  try {
    const { stdout } = await execFileAsync('docker', ['ps', '--all', '--quiet', '--filter', `label=io.bramble.scope=${dataDir}`]);
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await execFileAsync('docker', ['rm', '--force', ...ids]);
  } catch {
    // no Docker on this machine: no containers either
  }
}

const liveGroups = new Set<ProcessGroup>();
process.on('exit', () => {
  // Last resort when a test run dies without cleaning up: no child outlives the runner.
  for (const group of liveGroups) for (const member of group.members) if (member.running) process.kill(member.pid!, 'SIGKILL');
});

/** The processes of one test: free ports, a data dir each, logs printed when the test fails. */
export class ProcessGroup {
  readonly members: ManagedProcess[] = [];
  private rootDir: string | undefined;

  /** A directory of this group's (removed by cleanup), e.g. for a cluster bundle. */
  async scratchDir(name: string): Promise<string> {
    this.rootDir ??= await mkdtemp(join(tmpdir(), 'bramble-test-'));
    return join(this.rootDir, name);
  }

  async spawn(name: string, spec: ProcessSpec): Promise<ManagedProcess> {
    liveGroups.add(this);
    this.rootDir ??= await mkdtemp(join(tmpdir(), 'bramble-test-'));
    const ports: Record<string, number> = {};
    for (const portName of spec.portNames ?? []) ports[portName] = await freePort();
    const member = new ManagedProcess(name, join(this.rootDir, name), ports, spec);
    this.members.push(member);
    member.start();
    return member;
  }

  /** Spawns n processes named <prefix>1..<prefix>n with the same spec. */
  async spawnMany(count: number, prefix: string, spec: ProcessSpec): Promise<ManagedProcess[]> {
    const spawned: ManagedProcess[] = [];
    for (let i = 1; i <= count; i++) spawned.push(await this.spawn(`${prefix}${i}`, spec));
    return spawned;
  }

  logs(): string {
    return this.members.map((member) => member.log.map((line) => `[${member.name}] ${line}`).join('\n')).join('\n');
  }

  /** Kills every process this group started (by pid), removes their pods' containers and their data dirs. */
  async cleanup(): Promise<void> {
    await Promise.all(this.members.map((member) => member.kill('SIGKILL')));
    await Promise.all(this.members.map((member) => removeAgentContainers(member.dataDir)));
    if (this.rootDir) await rm(this.rootDir, { recursive: true, force: true });
    liveGroups.delete(this);
  }
}

/**
 * Runs the body with a fresh ProcessGroup; prints every process's log if the body throws and
 * always cleans up.
 */
export async function withProcesses<T>(body: (group: ProcessGroup) => Promise<T>): Promise<T> {
  const group = new ProcessGroup();
  try {
    return await body(group);
  } catch (error) {
    console.error(`--- logs of the processes of the failed test ---\n${group.logs()}\n--- end of logs ---`);
    throw error;
  } finally {
    await group.cleanup();
  }
}
