// `bramble exec`: a command in a pod's container over the pods/exec WebSocket, subprotocol
// v5.channel.k8s.io as kubectl 1.30+ speaks it. Every binary message starts with its channel:
// 0 stdin, 1 stdout, 2 stderr, 3 the final Status (JSON), 4 terminal resize, 255 close (v5: the
// payload names the channel the client closes, i.e. 0 once stdin ends).
import { StringDecoder } from 'node:string_decoder';
import type { IncomingMessage } from 'node:http';
import type { HttpClient } from '../../client/index.ts';
import type { Status } from '../../api/resources/types.ts';
import { KubeApiError } from './api.ts';

export const EXEC_PROTOCOL = 'v5.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface ExecOptions {
  command: string[];
  container?: string;
  /** Pass `stdin` to the process. */
  stdin?: NodeJS.ReadableStream;
  tty?: boolean;
  /** The terminal size now, and a hook to hear of changes (SIGWINCH). */
  terminalSize?: () => { columns: number; rows: number } | undefined;
  onResize?: (listener: () => void) => () => void;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The query of a pods/exec request: `command` repeated, as Kubernetes reads it. */
export function execQuery(options: Pick<ExecOptions, 'command' | 'container' | 'stdin' | 'tty'>): string {
  const q = new URLSearchParams();
  for (const word of options.command) q.append('command', word);
  if (options.container !== undefined) q.set('container', options.container);
  if (options.stdin !== undefined) q.set('stdin', 'true');
  q.set('stdout', 'true');
  // A TTY merges stderr into stdout, as in Kubernetes.
  if (options.tty !== true) q.set('stderr', 'true');
  if (options.tty === true) q.set('tty', 'true');
  return q.toString();
}

/** The remote command's exit code from the final Status (kubectl's NonZeroExitCode cause). */
export function exitCodeOf(status: Status): number {
  if (status.status === 'Success') return 0;
  // NonZeroExitCode is the exec stream's own reason, outside the API's StatusReason list.
  if ((status.reason as string | undefined) === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
  }
  throw new KubeApiError(status.code ?? 500, status, `error: ${status.message ?? 'the exec ended with an error'}`);
}

/** Runs the command; resolves to its exit code. Server refusals (404, 400, 403) are KubeApiErrors. */
export function execInPod(http: HttpClient, podPath: string, options: ExecOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = http.webSocket(`${podPath}/exec?${execQuery(options)}`, [EXEC_PROTOCOL]);
    const decoders = { [STDOUT]: new StringDecoder('utf8'), [STDERR]: new StringDecoder('utf8') };
    let finalStatus: Status | undefined;
    let settled = false;
    const cleanups: (() => void)[] = [];
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      for (const c of cleanups) c();
      fn();
    };

    // Refused before the upgrade: the server's Status, worded as every other server error.
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let status: Status | undefined;
        try {
          status = JSON.parse(text) as Status;
        } catch {
          status = undefined;
        }
        const code = res.statusCode ?? 0;
        settle(() => reject(status?.kind === 'Status'
          ? new KubeApiError(code, status, code === 401 ? `error: You must be logged in to the server (${status.message ?? 'Unauthorized'})` : `Error from server (${status.reason ?? code}): ${status.message ?? ''}`)
          : new KubeApiError(code, undefined, `Error from server: the exec request answered HTTP ${code}${text === '' ? '' : `: ${text.slice(0, 200)}`}`)));
      });
    });
    ws.on('error', (error) => settle(() => reject(error)));

    ws.on('open', () => {
      if (ws.protocol !== EXEC_PROTOCOL) {
        ws.close();
        settle(() => reject(new Error(`the server chose the exec subprotocol "${ws.protocol}", not ${EXEC_PROTOCOL}`)));
        return;
      }
      const sendResize = () => {
        const size = options.terminalSize?.();
        if (size) ws.send(Buffer.concat([Buffer.from([RESIZE]), Buffer.from(JSON.stringify({ Width: size.columns, Height: size.rows }))]));
      };
      if (options.tty === true) {
        sendResize();
        const off = options.onResize?.(sendResize);
        if (off) cleanups.push(off);
      }
      const input = options.stdin;
      if (input !== undefined) {
        const onData = (chunk: Buffer | string) => {
          if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([STDIN]), typeof chunk === 'string' ? Buffer.from(chunk) : chunk]));
        };
        const onEnd = () => {
          if (ws.readyState === ws.OPEN) ws.send(Buffer.from([CLOSE, STDIN]));
        };
        input.on('data', onData);
        input.once('end', onEnd);
        cleanups.push(() => {
          input.off('data', onData);
          input.off('end', onEnd);
          (input as NodeJS.ReadableStream & { pause?: () => void }).pause?.();
        });
      }
    });

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDOUT) options.out(decoders[STDOUT].write(payload));
      else if (channel === STDERR) options.err(decoders[STDERR].write(payload));
      else if (channel === ERROR) {
        try {
          finalStatus = JSON.parse(payload.toString('utf8')) as Status;
        } catch {
          finalStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, message: `unreadable status from the server: ${payload.toString('utf8').slice(0, 200)}` };
        }
      }
    });

    ws.on('close', () => {
      const rest = decoders[STDOUT].end();
      if (rest !== '') options.out(rest);
      const restErr = decoders[STDERR].end();
      if (restErr !== '') options.err(restErr);
      settle(() => {
        if (finalStatus === undefined) return reject(new Error('the exec connection closed before the command finished (no status from the server)'));
        try {
          resolve(exitCodeOf(finalStatus));
        } catch (error) {
          reject(error as Error);
        }
      });
    });
  });
}
