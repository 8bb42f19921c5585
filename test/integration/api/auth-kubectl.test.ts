// The security front (authentication, RBAC, 401/403 Status bodies) in front of a minimal HTTPS
// endpoint, driven by the real kubectl 1.32 with real TLS and client certificates: proves kubectl
// understands our answers and prints its usual messages. The endpoint serves only discovery and
// empty lists (the real API server is src/api's server; this test is about the gate).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpsRequest } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAuthenticator } from '../../../src/api/auth/authn.ts';
import { createRequestGate } from '../../../src/api/auth/gate.ts';
import { bootstrapRbacObjects, createRbacAuthorizer, staticRbacSource } from '../../../src/api/auth/rbac.ts';
import { makePki } from '../../unit/api/auth/pki-fixture.ts';
import type { Pki } from '../../unit/api/auth/pki-fixture.ts';
import { runKubectl, type KubectlRun } from '../../lib/kubectl.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-auth-kubectl-'));
const RBAC = 'rbac.authorization.k8s.io';

const discovery: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [] },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'get', 'list', 'watch'], shortNames: ['po'] },
      { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['create', 'delete', 'get', 'list', 'watch'] },
    ],
  },
};

describe('RBAC and authentication seen through the real kubectl', { timeout: 240_000 }, () => {
  let server: Server;
  let pki: Pki;
  let port = 0;
  const seen: string[] = [];

  before(async () => {
    pki = makePki(join(tmp, 'pki'), ['cluster-ca', 'other-ca'], [
      { name: 'server', subject: '/CN=bramble-api', ca: 'cluster-ca', server: true },
      { name: 'alice', subject: '/O=students/CN=alice', ca: 'cluster-ca' },
      { name: 'mallory', subject: '/O=system:masters/CN=mallory', ca: 'other-ca' },
    ]);
    // An empty kubeconfig so the user's own ~/.kube/config can never leak into the test.
    writeFileSync(join(tmp, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
    writeFileSync(join(tmp, 'tokens.csv'), 'bob-token,bob,1002,students\n', { mode: 0o600 });
    const authn = createAuthenticator({ adminToken: 'admin-token', tokenFile: join(tmp, 'tokens.csv') });
    const objects = [
      ...bootstrapRbacObjects(),
      { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'alice-edit', namespace: 'alice' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' }, subjects: [{ apiGroup: RBAC, kind: 'User', name: 'alice' }] },
    ];
    const gate = createRequestGate(authn, createRbacAuthorizer(staticRbacSource(objects)));
    server = createServer({ key: pki.pem('server.key'), cert: pki.pem('server.crt'), ca: pki.pem('cluster-ca.crt'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      void gate.check(req).then((result) => {
        const path = new URL(req.url ?? '/', 'https://x').pathname;
        seen.push(`${result.ok ? result.user.username : result.status.code} ${req.method ?? ''} ${path}`);
        const send = (code: number, body: unknown): void => {
          res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        };
        if (!result.ok) return send(result.status.code, result.status);
        const doc = discovery[path];
        if (doc !== undefined) return send(200, doc);
        const list = /^\/api\/v1\/namespaces\/[^/]+\/(pods|secrets)$/.exec(path);
        if (list !== null) return send(200, { kind: list[1] === 'pods' ? 'PodList' : 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
        send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server could not find the requested resource`, reason: 'NotFound', code: 404 });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(tmp, { recursive: true, force: true });
  });

  function kubectl(credentials: string[], args: string[]): Promise<KubectlRun> {
    const base = ['--server', `https://127.0.0.1:${port}`, '--certificate-authority', pki.path('cluster-ca.crt'), '--cache-dir', join(tmp, 'cache'), '--kubeconfig', join(tmp, 'kubeconfig'), '--request-timeout', '30s'];
    return runKubectl([...base, ...credentials, ...args]);
  }
  const aliceCert = (): string[] => ['--client-certificate', pki.path('alice.crt'), '--client-key', pki.path('alice.key')];

  test('a wrong token: kubectl says to log in (401)', async () => {
    const r = await kubectl(['--token', 'not-a-token'], ['get', 'pods', '-n', 'alice']);
    assert.equal(r.code, 1);
    // Discovery gets the 401 first, so kubectl prints its discovery wording, as with a real API server.
    assert.match(r.stderr, /error: You must be logged in to the server \(the server has asked for the client to provide credentials\)/);
  });

  test('no credentials at all: 401 with the Kubernetes Status body (kubectl would prompt for a user name here)', async () => {
    const body = await new Promise<{ code: number | undefined; body: string }>((resolve, reject) => {
      const r = httpsRequest({ host: '127.0.0.1', port, path: '/api/v1/namespaces/alice/pods', ca: pki.pem('cluster-ca.crt'), agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode, body: text }));
      });
      r.on('error', reject);
      r.end();
    });
    assert.equal(body.code, 401);
    assert.deepEqual(JSON.parse(body.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  test('a client certificate from another CA, even claiming system:masters, is refused', async () => {
    const r = await kubectl(['--client-certificate', pki.path('mallory.crt'), '--client-key', pki.path('mallory.key')], ['get', 'pods', '-n', 'alice']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /You must be logged in to the server/);
  });

  test('alice (client certificate) works in her namespace', async () => {
    const r = await kubectl(aliceCert(), ['get', 'pods', '-n', 'alice']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /No resources found in alice namespace\./);
    assert.ok(seen.includes('alice GET /api/v1/namespaces/alice/pods'));
  });

  test("alice cannot list another namespace's pods nor read its secrets (403, Kubernetes' message)", async () => {
    const pods = await kubectl(aliceCert(), ['get', 'pods', '-n', 'bob']);
    assert.equal(pods.code, 1);
    assert.match(pods.stderr, /Error from server \(Forbidden\): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "bob"/);
    const secret = await kubectl(aliceCert(), ['get', 'secret', 'db', '-n', 'bob']);
    assert.equal(secret.code, 1);
    assert.match(secret.stderr, /Error from server \(Forbidden\): secrets "db" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "bob"/);
  });

  test('bob (token file) has no binding: forbidden even in alice namespace; the admin token may do all', async () => {
    const bob = await kubectl(['--token', 'bob-token'], ['get', 'pods', '-n', 'alice']);
    assert.equal(bob.code, 1);
    assert.match(bob.stderr, /pods is forbidden: User "bob" cannot list resource "pods"/);
    const admin = await kubectl(['--token', 'admin-token'], ['get', 'secrets', '-n', 'bob']);
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(admin.stderr, /No resources found in bob namespace\./);
  });
});
