// A client that sends a body over the store's 4 MiB limit gets the 413 and its message, not a
// broken pipe: the real StoreServer on a real socket, over a real single-member Raft node. The
// server drains the refused body (up to a bound) before it closes, and keeps answering after.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { StoreClient, StoreClientError } from '../../../src/store/client.ts';
import { StoreServer } from '../../../src/store/http-server.ts';
import { maxRequestBodyBytes, wire } from '../../../src/store/wire.ts';
import { type InProcessNode, startInProcessNode } from '../../lib/inprocess-node.ts';

let node: InProcessNode;
let server: StoreServer;
let address: string;

before(async () => {
  node = await startInProcessNode('oversized');
  server = new StoreServer({ store: node.store, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0 });
  address = await server.start();
});

after(async () => {
  await server.stop();
  await node.stop();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } };
}

/** A plain Node http request that writes the whole body without waiting for an answer. */
function post(body: Buffer, chunked: boolean): Promise<Answer> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/cbor' };
    if (!chunked) headers['content-length'] = body.length;
    const outgoing = request({ host, port: Number(port), method: 'POST', path: '/v1/kv/put', agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: wire.decode(Buffer.concat(chunks)) as Answer['body'] }));
    });
    outgoing.on('error', reject);
    if (chunked) {
      // Several writes, so the limit is crossed while the body streams, not judged by a header.
      for (let offset = 0; offset < body.length; offset += 256 * 1024) outgoing.write(body.subarray(offset, offset + 256 * 1024));
      outgoing.end();
    } else outgoing.end(body);
  });
}

async function assertStillServing(client: StoreClient, key: string): Promise<void> {
  await client.put(Buffer.from(key), Buffer.from('small'));
  assert.equal(Buffer.from((await client.get(Buffer.from(key))) ?? []).toString(), 'small');
}

describe('a body over the store limit', () => {
  test('declared by Content-Length: 413 too-large with the limit in the message, five times in a row', async () => {
    const client = new StoreClient({ endpoints: [address], timeoutMs: 30_000 });
    try {
      // Five times: a reset races with the answer, so one lucky pass would prove little.
      for (let i = 0; i < 5; i++) {
        const answer = await post(Buffer.alloc(maxRequestBodyBytes + 1, 0x41), false);
        assert.equal(answer.status, 413, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, 'too-large');
        assert.match(answer.body.error?.message ?? '', new RegExp(`${maxRequestBodyBytes + 1} bytes; the limit is ${maxRequestBodyBytes} bytes`));
        await assertStillServing(client, `/declared/${i}`);
      }
    } finally {
      client.close();
    }
  });

  test('streamed without a length (chunked): 413 too-large once the limit is crossed', async () => {
    const answer = await post(Buffer.alloc(maxRequestBodyBytes + 512 * 1024, 0x42), true);
    assert.equal(answer.status, 413, JSON.stringify(answer.body));
    assert.equal(answer.body.error?.code, 'too-large');
    assert.match(answer.body.error?.message ?? '', new RegExp(`exceeds the limit of ${maxRequestBodyBytes} bytes`));
    const client = new StoreClient({ endpoints: [address], timeoutMs: 30_000 });
    try {
      await assertStillServing(client, '/chunked');
    } finally {
      client.close();
    }
  });

  test('the store client reports the server answer (StoreClientError 413), not a write error', async () => {
    const client = new StoreClient({ endpoints: [address], timeoutMs: 30_000 });
    try {
      await assert.rejects(client.put(Buffer.from('/big'), Buffer.alloc(maxRequestBodyBytes, 0x43)), (error: unknown) => {
        assert.ok(error instanceof StoreClientError, `a StoreClientError, not ${String(error)}`);
        assert.equal(error.status, 413);
        assert.equal(error.code, 'too-large');
        assert.match(error.message, /the limit is 4194304 bytes/);
        return true;
      });
      // The same client (its keep-alive pool) goes on working.
      await assertStillServing(client, '/after-big');
      assert.equal(await client.get(Buffer.from('/big')), null, 'the refused put wrote nothing');
    } finally {
      client.close();
    }
  });
});
