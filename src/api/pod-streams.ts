// The logs and exec subresources of pods: the port a node's agent implements (PodStreams), the
// log response, and exec over WebSocket in the channel protocol kubectl 1.32 speaks
// (v5.channel.k8s.io, and v4): one byte of channel before each binary message — 0 stdin,
// 1 stdout, 2 stderr, 3 error (the final Status, with the exit code), 4 resize, and in v5 255
// "close" ([255, 0]: stdin ended).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { badRequest, failure, type KubeObject, type Status } from './resources/index.ts';

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

export interface PodExecOptions {
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /**
   * With a TTY: the client's terminal size from its first resize message, which serveExec waits
   * for (briefly) before starting the process, so the process's terminal has it from the start.
   */
  initialSize?: TerminalSize;
}

export interface PodExecStreams {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable | null;
  resize(size: TerminalSize): Promise<void>;
  /** Resolves once the process exited and its output ended. */
  exitCode(): Promise<number>;
}

/** What the node's agent serves for pods bound to this node. Errors are PodStreamError. */
export interface PodStreams {
  logs(pod: KubeObject, options: PodLogOptions): Promise<Readable>;
  /** Throws the PodStreamError an exec would (wrong container, not running) without starting anything. */
  checkExec(pod: KubeObject, options: PodExecOptions): Promise<void>;
  exec(pod: KubeObject, options: PodExecOptions): Promise<PodExecStreams>;
}

/** A logs/exec request refused with this Kubernetes Status (400 for a wrong container, as kubectl expects). */
export class PodStreamError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? 'error');
    this.name = 'PodStreamError';
  }
}

function flag(url: URL, name: string): boolean {
  const value = url.searchParams.get(name);
  return value === 'true' || value === '1';
}

function count(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new PodStreamError(badRequest(`${name} must be a non-negative integer, got "${raw}"`));
  return value;
}

export function parseLogOptions(url: URL): PodLogOptions {
  const container = url.searchParams.get('container');
  const tailLines = count(url, 'tailLines');
  const sinceSeconds = count(url, 'sinceSeconds');
  return {
    ...(container ? { container } : {}),
    follow: flag(url, 'follow'),
    previous: flag(url, 'previous'),
    timestamps: flag(url, 'timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
  };
}

export function parseExecOptions(url: URL): PodExecOptions {
  const command = url.searchParams.getAll('command');
  if (command.length === 0) throw new PodStreamError(badRequest('you must specify at least 1 command'));
  const container = url.searchParams.get('container');
  const options: PodExecOptions = {
    ...(container ? { container } : {}),
    command,
    stdin: flag(url, 'stdin'),
    stdout: flag(url, 'stdout'),
    stderr: flag(url, 'stderr'),
    tty: flag(url, 'tty'),
  };
  if (!options.stdin && !options.stdout && !options.stderr) throw new PodStreamError(badRequest('you must specify at least 1 of stdin, stdout, stderr'));
  return options;
}

/** Streams a log to the HTTP response (chunked text, as the kubelet answers); a client that leaves stops a follow. */
export function sendLog(res: ServerResponse, stream: Readable): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  res.on('close', () => stream.destroy());
  stream.on('error', () => res.end());
  stream.pipe(res);
}

/** A refused upgrade: the Status as a plain HTTP response on the raw socket (kubectl reads its message). */
export function rejectUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  const code = status.code ?? 500;
  socket.end(`HTTP/1.1 ${code} ${statusText(code)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function statusText(code: number): string {
  return { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' }[code] ?? 'Error';
}

const SUPPORTED_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** The subprotocol to answer, or null when the client offers none we speak. */
export function chooseExecProtocol(req: IncomingMessage): string | null {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return SUPPORTED_PROTOCOLS.find((p) => offered.includes(p)) ?? null;
}

/** The Status kubectl turns into its own exit code (details.causes ExitCode). */
export function exitStatus(exitCode: number): Record<string, unknown> {
  if (exitCode === 0) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => SUPPORTED_PROTOCOLS.find((p) => protocols.has(p)) ?? false });

/** How long a TTY exec waits for the client's first resize before it starts without a size. */
export const FIRST_RESIZE_WAIT_MS = 1000;

export interface ServeExecOptions {
  /** A TTY session waits (up to firstResizeWaitMs) for the first resize and starts with that size. */
  tty: boolean;
  firstResizeWaitMs?: number;
}

/**
 * Accepts the WebSocket and runs the exec session on it: output frames as they come, stdin and
 * resize from the client, then the exit Status on the error channel and a normal close. kubectl
 * sends its terminal's size as the first resize message right after the handshake; a TTY session
 * waits for it so that `start` gets the size before the process runs (a program that reads its
 * terminal size at once, like `stty size`, would otherwise see 0x0).
 */
export function serveExec(req: IncomingMessage, socket: Duplex, head: Buffer, start: (initialSize: TerminalSize | undefined) => Promise<PodExecStreams>, options: ServeExecOptions = { tty: false }): void {
  wss.handleUpgrade(req, socket, head, (ws) => {
    void runExec(ws, start, options);
  });
}

function parseResize(payload: Buffer): TerminalSize | null {
  try {
    const size = JSON.parse(payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const { Width: columns, Height: rows } = size;
    if (typeof columns === 'number' && typeof rows === 'number' && Number.isInteger(columns) && Number.isInteger(rows) && columns > 0 && rows > 0 && columns <= 65535 && rows <= 65535) {
      return { columns, rows };
    }
  } catch {
    // a malformed resize is ignored, as the kubelet does
  }
  return null;
}

function frame(channel: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), payload]);
}

async function runExec(ws: WebSocket, start: (initialSize: TerminalSize | undefined) => Promise<PodExecStreams>, options: ServeExecOptions): Promise<void> {
  const finish = (status: Status | Record<string, unknown>) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(frame(CHANNEL.error, JSON.stringify(status)), () => ws.close(1000));
  };
  // kubectl may send stdin (and its close) right after the handshake, before the process runs.
  const early: Buffer[] = [];
  let onMessage: ((data: Buffer) => void) | null = null;
  let firstResize: ((size: TerminalSize | undefined) => void) | null = null;
  let initialSize: TerminalSize | undefined;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    if (onMessage) return onMessage(data);
    if (firstResize && data[0] === CHANNEL.resize) {
      const size = parseResize(data.subarray(1));
      if (size) return firstResize(size); // used as the start size, not applied again
    }
    early.push(data);
  });
  if (options.tty) {
    initialSize = await new Promise<TerminalSize | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), options.firstResizeWaitMs ?? FIRST_RESIZE_WAIT_MS);
      const done = (size: TerminalSize | undefined) => {
        clearTimeout(timer);
        firstResize = null;
        resolve(size);
      };
      firstResize = done;
      ws.once('close', () => done(undefined));
    });
    if (ws.readyState !== ws.OPEN) return; // the client left before anything started
  }
  let session: PodExecStreams;
  try {
    session = await start(initialSize);
  } catch (error) {
    finish(error instanceof PodStreamError ? error.status : failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`));
    return;
  }
  onMessage = (data: Buffer) => {
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === CHANNEL.stdin && payload.length > 0) session.stdin?.write(payload);
    else if (channel === CHANNEL.close && payload[0] === CHANNEL.stdin) session.stdin?.end();
    else if (channel === CHANNEL.resize) {
      const size = parseResize(payload);
      if (size) void session.resize(size).catch(() => undefined);
    }
  };
  for (const data of early.splice(0)) onMessage(data);
  const release = () => {
    session.stdin?.end();
    session.stdout.destroy();
    session.stderr?.destroy();
  };
  if (ws.readyState !== ws.OPEN) return release(); // the client left while the process started
  ws.on('close', release);
  session.stdout.on('data', (chunk: Buffer) => ws.readyState === ws.OPEN && ws.send(frame(CHANNEL.stdout, chunk)));
  session.stderr?.on('data', (chunk: Buffer) => ws.readyState === ws.OPEN && ws.send(frame(CHANNEL.stderr, chunk)));
  const drained = (stream: Readable | null) =>
    new Promise<void>((resolve) => {
      if (!stream || stream.readableEnded || stream.destroyed) return resolve();
      stream.once('end', resolve);
      stream.once('close', resolve);
    });
  try {
    const [code] = await Promise.all([session.exitCode(), drained(session.stdout), drained(session.stderr)]);
    finish(exitStatus(code));
  } catch (error) {
    finish(failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`));
  }
}
