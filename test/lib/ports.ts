// Free TCP ports for tests, unique across every process on this machine: test files run as
// separate processes, and other checkouts may run their suites at the same time.
//
// A port is claimed with a lock file (created with O_EXCL, holding the owner's pid) under
// <tmpdir>/bramble-test-ports; the claims are released when the process exits, and a claim whose
// owner is dead (kill -9) is cleared by the next process that meets it. Ports are drawn outside
// the kernel's ephemeral range, so an outgoing connection of any program cannot take a port
// between the moment it is handed out and the moment the test binds it.

import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const lockDir = join(tmpdir(), 'bramble-test-ports');
const claimed = new Set<number>();
let releaseHooked = false;

/** The lowest ephemeral port (Linux's ip_local_port_range); 32768 when it cannot be read. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // Not Linux: assume the common default.
  }
  return [32768, 60999];
}

/** Ports a test may use: 20000 up to the ephemeral range, and above it. */
function candidatePorts(): [number, number][] {
  const [low, high] = ephemeralRange();
  const ranges: [number, number][] = [];
  if (low > 20_000) ranges.push([20_000, low - 1]);
  if (high < 65_000) ranges.push([high + 1, 65_000]);
  return ranges.length > 0 ? ranges : [[20_000, 65_000]];
}

function randomPort(ranges: [number, number][]): number {
  const sizes = ranges.map(([a, b]) => b - a + 1);
  let pick = Math.floor(Math.random() * sizes.reduce((x, y) => x + y, 0));
  for (const [i, [a]] of ranges.entries()) {
    if (pick < sizes[i]!) return a + pick;
    pick -= sizes[i]!;
  }
  return ranges[0]![0];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Clears a claim whose owner is dead. Moved aside first (rename is atomic), so of two processes
 * clearing the same stale claim only one succeeds; a fresh claim moved aside by mistake (its owner
 * claimed the port in between) is linked back, which fails rather than overwrite a newer one.
 */
function clearStale(path: string, deadPid: number): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  if (ownerOf(aside) !== deadPid) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone claimed it again meanwhile; theirs stands.
    }
  }
  unlinkSync(aside);
}

/** The claims' folder exists and this process gives its claims back when it exits. */
function prepare(): void {
  if (releaseHooked) return;
  releaseHooked = true;
  mkdirSync(lockDir, { recursive: true, mode: 0o1777 });
  process.on('exit', releaseAll);
}

/** Where the claim of a port is kept (for tests of this module). */
export function claimPath(port: number): string {
  return join(lockDir, String(port));
}

function releaseAll(): void {
  for (const port of claimed) {
    const path = claimPath(port);
    if (ownerOf(path) === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  }
  claimed.clear();
}

/** Claims the port for this process; false if another live process holds it. Exported for its test. */
export function claimPort(port: number): boolean {
  prepare();
  const path = claimPath(port);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      claimed.add(port);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(path);
    // An unreadable or empty file may be a claim being written this instant: leave it.
    if (owner === null || owner === process.pid || alive(owner)) return false;
    clearStale(path, owner);
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 and claimed by this process until it exits: no other test process
 * on this machine (nor this one again) is handed it, and no outgoing connection takes it.
 */
export async function freePort(): Promise<number> {
  const ranges = candidatePorts();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomPort(ranges);
    if (claimed.has(port) || !claimPort(port)) continue;
    if (await bindable(port)) return port;
    // Held by something that does not take part in these claims: keep the claim (so nobody here
    // tries it again) and draw another.
  }
  throw new Error(`freePort: no free port after 200 attempts (claims under ${lockDir})`);
}
