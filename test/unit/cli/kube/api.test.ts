// The kube verbs' HTTPS client over real TLS against a local endpoint with canned answers (the
// transport, its credentials and its error wording; the verbs against a real `bramble up` need the
// API server). The endpoint is a test stand-in, not a Kubernetes server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { findResource } from '../../../../src/api/resources/catalog.ts';
import { KubeApi, KubeApiError } from '../../../../src/cli/kube/api.ts';
import type { Connection } from '../../../../src/cli/kube/kubeconfig.ts';
import { makePki } from '../../api/auth/pki-fixture.ts';
import type { Pki } from '../../api/auth/pki-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-kubeapi-'));
let pki: Pki;
let server: Server;
let port = 0;

before(async () => {
  pki = makePki(join(tmp, 'pki'), ['cluster-ca', 'other-ca'], [
    { name: 'server', subject: '/CN=api', ca: 'cluster-ca', server: true },
    { name: 'alice', subject: '/O=students/CN=alice', ca: 'cluster-ca' },
    { name: 'impostor', subject: '/CN=api', ca: 'other-ca', server: true },
  ]);
  server = createServer({ key: pki.pem('server.key'), cert: pki.pem('server.crt'), ca: pki.pem('cluster-ca.crt'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const json = (code: number, body: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const socket = req.socket as TLSSocket;
      if (url.pathname === '/echo') {
        return json(200, {
          method: req.method,
          query: Object.fromEntries(url.searchParams),
          authorization: req.headers.authorization ?? null,
          contentType: req.headers['content-type'] ?? null,
          cn: socket.authorized ? socket.getPeerCertificate().subject.CN : null,
          body: chunks.length === 0 ? null : JSON.parse(Buffer.concat(chunks).toString()),
        });
      }
      if (url.pathname === '/api/v1/namespaces/default/pods/ghost') return json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "ghost" not found', reason: 'NotFound', details: { name: 'ghost', kind: 'pods' }, code: 404 });
      if (url.pathname === '/secret') return json(401, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
      if (url.pathname === '/api/v1/namespaces/default/pods/web/log') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(`line 1 (tail=${url.searchParams.get('tailLines') ?? ''})\n`);
        setTimeout(() => res.end('line 2\n'), 50);
        return;
      }
      if (url.pathname === '/broken') return void res.writeHead(500).end('panic');
      if (url.pathname === '/not-json') return void res.writeHead(200).end('<html>');
      json(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

function conn(extra: Partial<Connection> = {}): Connection {
  return { server: `https://127.0.0.1:${port}`, ca: pki.pem('cluster-ca.crt'), namespace: 'default', insecureSkipTlsVerify: false, source: 'test kubeconfig', ...extra };
}

describe('kube verbs: HTTPS client', () => {
  test('paths of collections, objects and subresources', () => {
    const pods = findResource('', 'v1', 'pods');
    const deploys = findResource('apps', 'v1', 'deployments');
    const nodes = findResource('', 'v1', 'nodes');
    assert.ok(pods && deploys && nodes);
    assert.equal(KubeApi.path(pods, 'default'), '/api/v1/namespaces/default/pods');
    assert.equal(KubeApi.path(pods, undefined), '/api/v1/pods');
    assert.equal(KubeApi.path(deploys, 'class-a', 'web', 'scale'), '/apis/apps/v1/namespaces/class-a/deployments/web/scale');
    assert.equal(KubeApi.path(nodes, 'ignored-for-cluster-scope', 'pi-1'), '/api/v1/nodes/pi-1');
  });

  test('client certificate and CA from the kubeconfig; JSON body and query', async () => {
    const api = new KubeApi(conn({ cert: pki.pem('alice.crt'), key: pki.pem('alice.key') }));
    const got = await api.request('PATCH', '/echo', { query: { labelSelector: 'app=web', skipped: undefined }, body: { spec: { replicas: 2 } }, contentType: 'application/merge-patch+json' });
    assert.deepEqual(got, { method: 'PATCH', query: { labelSelector: 'app=web' }, authorization: null, contentType: 'application/merge-patch+json', cn: 'alice', body: { spec: { replicas: 2 } } });
  });

  test('bearer token', async () => {
    const got = await new KubeApi(conn({ token: 's3cret' })).request<{ authorization: string; cn: null }>('GET', '/echo');
    assert.equal(got.authorization, 'Bearer s3cret');
    assert.equal(got.cn, null);
  });

  test("errors in kubectl's words: Status from the server, 401, non-Status, non-JSON", async () => {
    const api = new KubeApi(conn());
    await assert.rejects(api.request('GET', '/api/v1/namespaces/default/pods/ghost'), (err: unknown) => err instanceof KubeApiError && err.code === 404 && err.reason === 'NotFound' && err.message === 'Error from server (NotFound): pods "ghost" not found');
    await assert.rejects(api.request('GET', '/secret'), (err: unknown) => err instanceof KubeApiError && err.message === 'error: You must be logged in to the server (Unauthorized)');
    await assert.rejects(api.request('GET', '/broken'), /answered HTTP 500: panic/);
    await assert.rejects(api.request('GET', '/not-json'), /non-JSON answer/);
  });

  test('logs are streamed as text, chunk by chunk', async () => {
    const pods = findResource('', 'v1', 'pods');
    assert.ok(pods);
    const chunks: string[] = [];
    await new KubeApi(conn()).stream(KubeApi.path(pods, 'default', 'web', 'log'), { tailLines: '5', follow: undefined }, (t) => chunks.push(t));
    assert.equal(chunks.join(''), 'line 1 (tail=5)\nline 2\n');
    assert.ok(chunks.length >= 2, 'delivered as it arrives');
    await assert.rejects(new KubeApi(conn()).stream(KubeApi.path(pods, 'default', 'ghost', 'log'), {}, () => undefined), /Error from server/);
    const refusing = (): void => {
      throw new Error('consumer gave up');
    };
    await assert.rejects(new KubeApi(conn()).stream(KubeApi.path(pods, 'default', 'web', 'log'), {}, refusing), /consumer gave up/);
  });

  test('a server whose certificate the CA did not sign, and a closed port', async () => {
    const impostor = createServer({ key: pki.pem('impostor.key'), cert: pki.pem('impostor.crt') }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const impostorPort = (impostor.address() as AddressInfo).port;
    try {
      await assert.rejects(new KubeApi(conn({ server: `https://127.0.0.1:${impostorPort}` })).request('GET', '/version'), /certificate not signed by the kubeconfig's CA \(test kubeconfig\)/);
    } finally {
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
    await assert.rejects(new KubeApi(conn({ server: `https://127.0.0.1:${impostorPort}` })).request('GET', '/version'), /The connection to the server 127\.0\.0\.1:\d+ was refused - did you specify the right host or port\?/);
  });
});
