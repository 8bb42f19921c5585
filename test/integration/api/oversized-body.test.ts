// A client that sends a body over the API's 3 MiB limit gets a 413 Kubernetes Status with its
// message, not a broken pipe; one refused before its body is read (no credentials) gets its 401
// the same way; and the server keeps answering. The real API server (HTTPS) on a real socket,
// over a real single-member Raft node.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { MAX_BODY_BYTES } from '../../../src/api/server.ts';
import { type RunningApi, startApi } from '../../../src/api/start.ts';
import { apiFeeds } from '../../../src/client/cache/index.ts';
import { type InProcessNode, startInProcessNode } from '../../lib/inprocess-node.ts';

let node: InProcessNode;
let api: RunningApi;
let dataDir: string;
let credentials: { ca: Buffer; cert: Buffer; key: Buffer };

before(async () => {
  node = await startInProcessNode('api-oversized');
  dataDir = mkdtempSync(join(tmpdir(), 'bramble-api-oversized-'));
  api = await startApi({ dataDir, store: node.store, host: '127.0.0.1', port: 0, nodeName: 'api-oversized', gitVersion: 'v0.0.0-test', feeds: apiFeeds(pino({ level: 'silent' })) });
  const kubeconfig = parseYaml(readFileSync(api.kubeconfigPath, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64');
  credentials = { ca: b64(kubeconfig.clusters[0]?.cluster['certificate-authority-data']), cert: b64(kubeconfig.users[0]?.user['client-certificate-data']), key: b64(kubeconfig.users[0]?.user['client-key-data']) };
});

after(async () => {
  await api.stop();
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: { kind?: string; code?: number; reason?: string; message?: string; metadata?: { name?: string } };
}

/** A plain Node https request that writes its whole body without waiting for an answer. */
function call(method: string, path: string, body: Buffer | undefined, options: { chunked?: boolean; anonymous?: boolean } = {}): Promise<Answer> {
  const url = new URL(api.url);
  const tls = options.anonymous ? { ca: credentials.ca } : credentials;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (body && !options.chunked) headers['content-length'] = body.length;
    const outgoing = request({ ...tls, host: url.hostname, port: Number(url.port), method, path, agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
    });
    outgoing.on('error', reject);
    if (body && options.chunked) {
      // Several writes, so the limit is crossed while the body streams, not judged by a header.
      for (let offset = 0; offset < body.length; offset += 256 * 1024) outgoing.write(body.subarray(offset, offset + 256 * 1024));
      outgoing.end();
    } else outgoing.end(body);
  });
}

const configMaps = '/api/v1/namespaces/default/configmaps';

function configMap(name: string, bytes: number): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'x'.repeat(bytes) } }));
}

async function assertStillServing(name: string): Promise<void> {
  const created = await call('POST', configMaps, configMap(name, 10));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.metadata?.name, name);
}

describe('a body over the API limit', () => {
  test('declared by Content-Length: a 413 Status RequestEntityTooLarge with the limit, five times in a row', async () => {
    for (let i = 0; i < 5; i++) {
      const body = configMap(`big-${i}`, MAX_BODY_BYTES + 1024);
      const answer = await call('POST', configMaps, body);
      assert.equal(answer.status, 413, JSON.stringify(answer.body));
      assert.equal(answer.body.kind, 'Status');
      assert.equal(answer.body.code, 413);
      assert.equal(answer.body.reason, 'RequestEntityTooLarge');
      assert.match(answer.body.message ?? '', new RegExp(`the request body is ${body.length} bytes; the limit is ${MAX_BODY_BYTES} bytes`));
      await assertStillServing(`small-${i}`);
    }
  });

  test('streamed without a length (chunked): the 413 Status once the limit is crossed', async () => {
    const answer = await call('POST', configMaps, configMap('big-chunked', MAX_BODY_BYTES + 512 * 1024), { chunked: true });
    assert.equal(answer.status, 413, JSON.stringify(answer.body));
    assert.equal(answer.body.reason, 'RequestEntityTooLarge');
    assert.match(answer.body.message ?? '', new RegExp(`exceeds the limit of ${MAX_BODY_BYTES} bytes`));
    await assertStillServing('small-chunked');
  });

  test('refused before its body is read (no credentials): the client gets the Status, not a reset', async () => {
    const answer = await call('POST', configMaps, configMap('anonymous', 2 * 1024 * 1024), { anonymous: true });
    assert.ok(answer.status === 401 || answer.status === 403, `401 or 403, got ${answer.status} ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.kind, 'Status');
    assert.equal(answer.body.code, answer.status);
    assert.ok((answer.body.message ?? '').length > 0, 'the Status says why');
    await assertStillServing('small-after-anonymous');
  });
});
