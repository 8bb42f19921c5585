// The HTTP client waits and sends again when the server asks it to (429, or a 5xx with
// Retry-After, as client-go does), and only then: a real HTTP server on loopback scripts the answers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ClientError, HttpClient, Kinds } from '../../../src/client/index.ts';

interface Scripted {
  code: number;
  retryAfter?: string;
}

let server: Server;
let script: Scripted[] = [];
let received: string[] = [];

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'default' } };

before(async () => {
  server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const next = script.shift() ?? { code: 200 };
      const body = next.code === 200 ? service : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: next.code, reason: next.code === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: `scripted ${next.code}` };
      res.writeHead(next.code, { 'content-type': 'application/json', ...(next.retryAfter !== undefined ? { 'retry-after': next.retryAfter } : {}) });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client(maxRetries?: number): HttpClient {
  const { port } = server.address() as AddressInfo;
  return new HttpClient({ server: `http://127.0.0.1:${port}`, ...(maxRetries !== undefined ? { maxRetries } : {}) });
}

function reset(answers: Scripted[]): void {
  script = answers;
  received = [];
}

test('429 with Retry-After, then a 503 with Retry-After (no leader): the create is sent again and succeeds', async () => {
  reset([{ code: 429, retryAfter: '1' }, { code: 503, retryAfter: '0' }, { code: 200 }]);
  const created = await client().create(Kinds.services, service);
  assert.equal(created.metadata.name, 'x');
  assert.deepEqual(received, ['POST /api/v1/namespaces/default/services', 'POST /api/v1/namespaces/default/services', 'POST /api/v1/namespaces/default/services']);
});

test('a 5xx without Retry-After (outcome unknown) is not sent again: the caller gets the Status', async () => {
  reset([{ code: 504 }, { code: 200 }]);
  const error = await client().create(Kinds.services, service).catch((e: unknown) => e);
  assert.ok(error instanceof ClientError);
  assert.equal(error.status.code, 504);
  assert.equal(received.length, 1);
});

test('a 4xx other than 429 is never retried, even with Retry-After', async () => {
  reset([{ code: 409, retryAfter: '0' }, { code: 200 }]);
  const error = await client().get(Kinds.services, 'default', 'x').catch((e: unknown) => e);
  assert.ok(error instanceof ClientError);
  assert.equal(error.status.code, 409);
  assert.equal(received.length, 1);
});

test('retries are bounded: after maxRetries the last answer is the caller\'s, with its Retry-After', async () => {
  reset([{ code: 429, retryAfter: '0' }, { code: 429, retryAfter: '0' }, { code: 429, retryAfter: '0' }, { code: 200 }]);
  const answer = await client(2).request('GET', '/api/v1/namespaces/default/services/x');
  assert.equal(answer.code, 429);
  assert.equal(answer.retryAfterSeconds, 0);
  assert.equal(received.length, 3, 'the first try and two retries');
});

test('a Retry-After that is not delta-seconds (an HTTP date, garbage) is treated as absent', async () => {
  reset([{ code: 429, retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' }, { code: 200 }]);
  const answer = await client().request('GET', '/api/v1/namespaces/default/services/x');
  assert.equal(answer.code, 429);
  assert.equal(answer.retryAfterSeconds, undefined);
  assert.equal(received.length, 1);
});
