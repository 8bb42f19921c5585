// Request headers over the limit (16 KiB) get `431 Request Header Fields Too Large` with a short
// body, as from Kubernetes' Go server, instead of an empty reply; a request line that is not HTTP
// gets 400; the server keeps serving. The real API server over TLS, read byte for byte.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { MAX_HEADER_BYTES } from '../../../src/store/client-error.ts';
import { startTestApi, type TestApi } from '../../lib/api-server.ts';
import { exchange } from '../../lib/tcp.ts';

let server: TestApi;

before(async () => {
  server = await startTestApi('api-header-limit');
});

after(async () => {
  await server.stop();
});

const ANSWER_431 = 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 35\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large';

function get(filler: number): string {
  return `GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'a'.repeat(filler)}\r\n\r\n`;
}

describe('request headers over the limit', () => {
  test('a raw TLS request with 64 KiB of headers: exactly the 431 answer, then the close', async () => {
    assert.equal(await exchange(server.port, { ...server.credentials }, get(64 * 1024)), ANSWER_431);
  });

  test('one byte-ish over the limit: 431; well under it: served', async () => {
    assert.equal(await exchange(server.port, { ...server.credentials }, get(MAX_HEADER_BYTES + 16)), ANSWER_431);
    const served = await exchange(server.port, { ...server.credentials }, get(MAX_HEADER_BYTES - 1024).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    assert.match(served, /^HTTP\/1\.1 200 OK\r\n/);
  });

  test('https.request with a huge header gets statusCode 431 (the client is not reset)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request({ ...server.credentials, host: '127.0.0.1', port: server.port, path: '/version', agent: false, headers: { 'x-filler': 'b'.repeat(256 * 1024) } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
    assert.equal(status, 431);
  });

  test('a request line that is not HTTP: 400 Bad Request; the server still answers after all of these', async () => {
    assert.equal(await exchange(server.port, { ...server.credentials }, 'NOT HTTP AT ALL\r\n\r\n'), 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 15\r\nConnection: close\r\n\r\n400 Bad Request');
    const version = await server.call('GET', '/version');
    assert.equal(version.status, 200, version.text);
  });
});
