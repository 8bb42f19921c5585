// Mutual TLS between real `bramble up` processes of one cluster, and what a process without the
// cluster's credentials gets: a refused handshake on the peer port, 401 on the client port and on
// the Kubernetes API, no membership change; a node of another cluster is refused too; a member's
// certificate does not let it speak as another member; node certificates are API identities.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { writeClusterBundle } from '../../../src/node/cluster-bundle.ts';
import { ensureNodeCertificate, readBundle } from '../../../src/identity/bundle.ts';
import { storeClientTls } from '../../../src/identity/tls.ts';
import { encodeHello } from '../../../src/raftnode/transport/codec.ts';
import { encodeFrame } from '../../../src/raftnode/transport/frame.ts';
import { StoreClient, StoreClientError } from '../../../src/store/client.ts';
import type { MemberStatus } from '../../../src/store/http-server.ts';
import { storePaths, wire } from '../../../src/store/wire.ts';
import { bundleCredentials, clientTls, groupBundle, statusOf } from '../../lib/bramble-cluster.ts';
import { runKubectl } from '../../lib/kubectl.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

interface Probe {
  /** Bytes the server sent before closing. */
  received: Buffer;
  error: string | null;
}

/** Dials (TLS when options are given), sends `payload` once connected, and collects what comes back until the server closes. */
function probe(port: number, tls: ConnectionOptions | null, payload: Buffer): Promise<Probe> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const socket = tls ? connectTls({ host: '127.0.0.1', port, ...tls }, () => socket.write(payload)) : connectTcp({ host: '127.0.0.1', port }, () => socket.write(payload));
    socket.setTimeout(8_000, () => socket.destroy(new Error('no close within 8 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (e: Error) => {
      error = e.message;
    });
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), error }));
  });
}

function httpsStatus(port: number, path: string, tls: ConnectionOptions, method = 'GET', body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, ...tls, ...(body ? { headers: { 'content-type': 'application/cbor', 'content-length': body.length } } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('mutual TLS in a real cluster', { timeout: 240_000 }, () => {
  const group = new ProcessGroup();
  const ports = { a: { peer: 0, client: 0, api: 0 }, b: { peer: 0, client: 0, api: 0 } };
  const nodes: Record<'a' | 'b', ManagedProcess> = {} as Record<'a' | 'b', ManagedProcess>;
  let bundle = '';
  let otherBundle = '';
  let otherNode: { certPem: string; keyPem: string; caPem: string };

  const membership = async (): Promise<MemberStatus['confState']> => {
    const status = await statusOf({ name: 'a', process: nodes.a, peerAddress: '', clientAddress: `127.0.0.1:${ports.a.client}`, bundleDir: bundle, tls: clientTls(bundle) });
    assert.ok(status, 'node a answers its own cluster');
    return status.confState;
  };

  before(async () => {
    bundle = await groupBundle(group);
    otherBundle = (await writeClusterBundle(await group.scratchDir('other-cluster'), 'https://127.0.0.1:6443')).dir;
    const other = readBundle(otherBundle);
    // A genuine node certificate, from another cluster's CA, for a node called "a".
    otherNode = { ...(await ensureNodeCertificate(other, 'a', ['127.0.0.1'])), caPem: other.caCertPem };
    for (const name of ['a', 'b'] as const) ports[name] = { peer: await freePort(), client: await freePort(), api: await freePort() };
    const initial = `a=127.0.0.1:${ports.a.peer},b=127.0.0.1:${ports.b.peer}`;
    for (const name of ['a', 'b'] as const) {
      nodes[name] = await group.spawn(name, {
        args: ({ dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports[name].peer}`, '--client-addr', `127.0.0.1:${ports[name].client}`, '--api-addr', `127.0.0.1:${ports[name].api}`, '--initial-cluster', initial, '--bundle', bundle, '--tick-ms', '20', '--runtime', 'none'],
      });
    }
    await Promise.all(Object.values(nodes).map((node) => node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS)));
    await waitFor('a leader with both voters', async () => ((await membership()).voters.length === 2 ? true : null));
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
  });

  test('the peer port: plain TCP, TLS without a certificate, and a certificate of another cluster get no handshake answer', async () => {
    const hello = encodeFrame([encodeHello({ kind: 'hello', from: 'a', to: 'b', clusterId: readBundle(bundle).clusterId })]);
    const plain = await probe(ports.b.peer, null, hello);
    assert.equal(plain.received.length, 0, 'no welcome for plain TCP');
    const noCert = await probe(ports.b.peer, { ca: readBundle(bundle).caCertPem, rejectUnauthorized: false }, hello);
    assert.equal(noCert.received.length, 0, 'no welcome without a client certificate');
    const foreign = await probe(ports.b.peer, { ca: otherNode.caPem, cert: otherNode.certPem, key: otherNode.keyPem, rejectUnauthorized: false }, hello);
    assert.equal(foreign.received.length, 0, 'no welcome for a node certificate of another CA');
    await nodes.b.waitForLog(/refused a peer connection: TLS handshake failed/);
    assert.deepEqual((await membership()).voters.sort(), ['a', 'b']);
  });

  test("a member's certificate does not let it speak as another member", async () => {
    const own = bundleCredentials(nodes.b.dataDir);
    // Node b's genuine certificate, presented to a, claiming to be "c".
    const answer = await probe(ports.a.peer, { ca: own.caPem, cert: own.certPem, key: own.keyPem, checkServerIdentity: () => undefined }, encodeFrame([encodeHello({ kind: 'hello', from: 'c', to: 'a', clusterId: own.clusterId })]));
    assert.match(answer.received.toString('latin1'), /refused/);
    await nodes.a.waitForLog(/refused a peer connection: the peer's certificate is for node b, but it claims to be c/);
  });

  test('the client port: 401 without a certificate or with another CA\'s, and no membership change', async () => {
    const before = await membership();
    const ca = readBundle(bundle).caCertPem;
    const join = wire.encode({ name: 'rogue', peerAddress: '127.0.0.1:1' });
    for (const tls of [{ ca, checkServerIdentity: () => undefined }, { ca, cert: otherNode.certPem, key: otherNode.keyPem, checkServerIdentity: () => undefined }]) {
      const status = await httpsStatus(ports.a.client, storePaths.status, tls);
      assert.equal(status.status, 401);
      assert.equal((wire.decode(status.body) as { error: { code: string } }).error.code, 'unauthorized');
      const members = await httpsStatus(ports.a.client, storePaths.members, tls, 'POST', join);
      assert.equal(members.status, 401);
    }
    const plainHttp = await probe(ports.a.client, null, Buffer.from('GET /v1/cluster/status HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.ok(!plainHttp.received.toString('latin1').includes('200 OK'), 'plain HTTP gets nothing useful');
    assert.deepEqual(await membership(), before);

    // A client of another cluster does not trust this node's certificate in the first place.
    const foreign = new StoreClient({ endpoints: [`127.0.0.1:${ports.a.client}`], tls: storeClientTls(bundleCredentials(otherBundle)), timeoutMs: 5_000 });
    await assert.rejects(foreign.status(), (error: Error) => !(error instanceof StoreClientError) && /certificate/i.test(error.message));
    foreign.close();
  });

  test('the API: 401 without credentials or with another CA; node certificates of this CA are the node identities', async () => {
    const ca = readBundle(bundle).caCertPem;
    assert.equal((await httpsStatus(ports.a.api, '/api/v1/namespaces', { ca })).status, 401);
    assert.equal((await httpsStatus(ports.a.api, '/api/v1/namespaces', { ca, cert: otherNode.certPem, key: otherNode.keyPem })).status, 401);
    const dir = join(nodes.b.dataDir, 'bundle');
    const whoami = await runKubectl(['--server', `https://127.0.0.1:${ports.a.api}`, '--certificate-authority', join(dir, 'ca.crt'), '--client-certificate', join(dir, 'node.crt'), '--client-key', join(dir, 'node.key'), 'auth', 'whoami', '-o', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    const info = (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    assert.equal(info.username, 'system:node:b');
    assert.ok(info.groups.includes('system:nodes'), `groups ${info.groups.join(',')}`);
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca);
  });

  test('a node of another cluster cannot join: it does not trust the members, and they do not trust it', async () => {
    const before = await membership();
    const intruder = await group.spawn('intruder', {
      portNames: ['peer', 'client'],
      args: ({ ports: own, dataDir }) => ['up', '--name', 'intruder', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${own['peer']}`, '--client-addr', `127.0.0.1:${own['client']}`, '--api-addr', 'off', '--join', `127.0.0.1:${ports.a.client}`, '--bundle', otherBundle, '--runtime', 'none'],
    });
    const exit = await intruder.waitForExit();
    assert.equal(exit.code, 1);
    assert.ok(intruder.log.some((line) => /could not join the cluster through 127\.0\.0\.1:\d+: .*certificate/i.test(line)), intruder.log.join('\n'));
    assert.deepEqual(await membership(), before);
  });
});
