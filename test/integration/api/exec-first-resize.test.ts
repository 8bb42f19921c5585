// serveExec over a real WebSocket on loopback: a TTY session starts with the size of the client's
// first resize message (kubectl sends it right after the handshake), waits only so long for it,
// and applies later resizes to the running session; a non-TTY session starts at once.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { serveExec, type PodExecStreams, type ServeExecOptions, type TerminalSize } from '../../../src/api/pod-streams.ts';
import { freePort } from '../../lib/ports.ts';

interface Started {
  initialSize: TerminalSize | undefined;
  afterMs: number;
  resizes: TerminalSize[];
  stdout: PassThrough;
}

let server: Server;
let port = 0;
let next: { options: ServeExecOptions; started: (s: Started) => void } | null = null;

before(async () => {
  port = await freePort();
  server = createServer();
  server.on('upgrade', (req, socket, head) => {
    const current = next!;
    const acceptedAt = performance.now();
    serveExec(req, socket, head, async (initialSize) => {
      const stdout = new PassThrough();
      const started: Started = { initialSize, afterMs: performance.now() - acceptedAt, resizes: [], stdout };
      current.started(started);
      const session: PodExecStreams = {
        stdin: null,
        stdout,
        stderr: null,
        resize: async (size) => void started.resizes.push(size),
        exitCode: () => new Promise((resolve) => stdout.on('end', () => resolve(0))),
      };
      return session;
    }, current.options);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const resize = (size: unknown) => Buffer.concat([Buffer.from([4]), Buffer.from(typeof size === 'string' ? size : JSON.stringify(size))]);

/** Opens a session, sends `first` right after the handshake, and returns what the server started. */
async function open(options: ServeExecOptions, first: Buffer[]): Promise<{ ws: WebSocket; started: Started; closed: Promise<void> }> {
  const started = new Promise<Started>((resolve) => (next = { options, started: resolve }));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['v5.channel.k8s.io']);
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  for (const frame of first) ws.send(frame);
  return { ws, started: await started, closed };
}

test('a TTY session starts with the first resize; later resizes reach the session, the first is not sent twice', async () => {
  const { ws, started, closed } = await open({ tty: true, firstResizeWaitMs: 5_000 }, [resize('not json'), resize({ Width: 0, Height: 10 }), resize({ Width: 132, Height: 43 })]);
  assert.deepEqual(started.initialSize, { columns: 132, rows: 43 });
  assert.ok(started.afterMs < 5_000, 'started on the resize, not at the end of the wait');
  ws.send(resize({ Width: 80, Height: 24 }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(started.resizes, [{ columns: 80, rows: 24 }]);
  started.stdout.end('done');
  await closed;
});

test('a TTY session without a resize starts without a size once the wait is over', async () => {
  const { ws, started, closed } = await open({ tty: true, firstResizeWaitMs: 300 }, []);
  assert.equal(started.initialSize, undefined);
  assert.ok(started.afterMs >= 250, `waited ${started.afterMs} ms`);
  started.stdout.end();
  await closed;
  assert.equal(ws.readyState, ws.CLOSED);
});

test('a session without a TTY starts at once and takes no initial size', async () => {
  const { started, closed } = await open({ tty: false, firstResizeWaitMs: 10_000 }, [resize({ Width: 132, Height: 43 })]);
  assert.equal(started.initialSize, undefined);
  assert.ok(started.afterMs < 10_000, 'did not wait for a resize');
  started.stdout.end();
  await closed;
});
