// The one way tests run a program to its end and read the outcome: the `bramble` CLI here, and
// kubectl (test/lib/kubectl.ts) on top of it.
import { execFile } from 'node:child_process';
import { brambleBin } from './processes.ts';

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to stdin; stdin is closed either way, so the program never waits on a prompt. */
  input?: string;
  /** Added to (or overriding) this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kills a program that hangs; generous, never a speed assertion. */
  timeoutMs?: number;
}

/** Runs `file` with `args` and reports its exit code instead of throwing. */
export function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 90_000, env: { ...process.env, ...opts.env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** The `bramble` CLI (bin/bramble.mjs) run by this Node. */
export function bramble(args: string[], opts: CommandOptions = {}): Promise<CommandRun> {
  return runCommand(process.execPath, [brambleBin, ...args], opts);
}
