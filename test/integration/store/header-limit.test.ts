// The store's client port (HTTPS with the cluster CA, as `bramble up` serves it) answers request
// headers over the limit with `431 Request Header Fields Too Large` and a short body, and keeps
// serving: the real StoreServer over a real single-member Raft node, read byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createCa, issueCertificate, loadCa } from '../../../src/identity/certs.ts';
import { nodeSubject } from '../../../src/identity/bundle.ts';
import { storeClientTls, storeServerTls, type ClusterCredentials } from '../../../src/identity/tls.ts';
import { StoreClient } from '../../../src/store/client.ts';
import { StoreServer } from '../../../src/store/http-server.ts';
import { type InProcessNode, startInProcessNode } from '../../lib/inprocess-node.ts';
import { exchange } from '../../lib/tcp.ts';

let node: InProcessNode;
let server: StoreServer;
let port = 0;
let credentials: ClusterCredentials;

before(async () => {
  const ca = await createCa();
  const issued = await issueCertificate(await loadCa(ca.certPem, ca.keyPem), { subject: nodeSubject('headers'), usages: ['server', 'client'], hosts: ['127.0.0.1'] });
  credentials = { clusterId: 'test', caPem: ca.certPem, certPem: issued.cert, keyPem: issued.key ?? '' };
  node = await startInProcessNode('headers');
  server = new StoreServer({ store: node.store, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0, tls: storeServerTls(credentials) });
  port = Number((await server.start()).split(':').pop());
});

after(async () => {
  await server.stop();
  await node.stop();
});

describe('request headers over the limit on the client port', () => {
  test('64 KiB of headers over TLS: exactly the 431 answer; the port still serves a client', async () => {
    const tls = { ...storeClientTls(credentials) };
    const answer = await exchange(port, tls, `GET /v1/cluster/status HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.equal(answer, 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 35\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large');
    const client = new StoreClient({ endpoints: [`127.0.0.1:${port}`], tls: storeClientTls(credentials), timeoutMs: 30_000 });
    try {
      await client.put(Buffer.from('/after'), Buffer.from('ok'));
      assert.equal(Buffer.from((await client.get(Buffer.from('/after'))) ?? []).toString(), 'ok');
    } finally {
      client.close();
    }
  });
});
