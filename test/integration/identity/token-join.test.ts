// Joining with only the token, between real `bramble up` processes: the node fetches the CA,
// checks it against the token, proves the secret (bound to the TLS session), gets its node
// certificate and the Secret keys, and joins as a learner. A wrong fingerprint, a wrong secret,
// an impersonating server and garbage on the join endpoint get nothing, and clear errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeClusterBundle } from '../../../src/node/cluster-bundle.ts';
import { ensureNodeCertificate, isBundle, readBundle } from '../../../src/identity/bundle.ts';
import { issuedBy } from '../../../src/identity/certs.ts';
import { JOIN_CREDENTIALS_PATH, joinWithToken } from '../../../src/identity/join.ts';
import { formatJoinToken } from '../../../src/identity/token.ts';
import { type BrambleNode, fastTimerArgs, startBrambleCluster, statusOf } from '../../lib/bramble-cluster.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

async function tokenJoin(group: ProcessGroup, name: string, token: string, via: string): Promise<ManagedProcess & { clientAddress: string }> {
  const peer = await freePort();
  const clientAddress = `127.0.0.1:${await freePort()}`;
  const process = await group.spawn(name, {
    args: ({ dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${peer}`, '--client-addr', clientAddress, '--token', token, '--join', via, ...fastTimerArgs, '--runtime', 'none'],
  });
  return Object.assign(process, { clientAddress });
}

function post(port: number, path: string, body: string | Buffer, method = 'POST', localAddress = '127.0.0.1'): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    const req = request({ host: '127.0.0.1', localAddress, port, path, method, agent: false, rejectUnauthorized: false, headers: { 'content-type': 'application/json', 'content-length': bytes.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { raw: text };
        }
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, json, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined });
      });
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : bytes);
  });
}

describe('token join', { timeout: 240_000 }, () => {
  const group = new ProcessGroup();
  let first: BrambleNode;
  let token = '';
  const clientPort = () => Number(first.clientAddress.split(':')[1]);
  const members = async () => {
    const status = await statusOf(first);
    assert.ok(status);
    return [...status.confState.voters, ...status.confState.learners].sort();
  };

  before(async () => {
    first = (await startBrambleCluster(group, 1, { extraArgs: ['--runtime', 'none'] }))[0]!;
    token = readBundle(first.bundleDir).token;
    await waitFor('a leader', async () => (await statusOf(first))?.role === 'leader');
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
  });

  test('a node with only the token joins, gets a node certificate and the Secret keys, and can admit the next one', async () => {
    const joined = await tokenJoin(group, 'pi2', token, first.clientAddress);
    await joined.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
    await waitFor('pi2 in the membership', async () => ((await members()).includes('pi2') ? true : null));
    const own = join(joined.dataDir, 'bundle');
    const cluster = readBundle(first.bundleDir);
    assert.ok(issuedBy(readFileSync(join(own, 'node.crt'), 'utf8'), cluster.caCertPem), 'the node certificate is from the cluster CA');
    assert.equal(readFileSync(join(own, 'ca.crt'), 'utf8'), cluster.caCertPem);
    assert.deepEqual(JSON.parse(readFileSync(join(joined.dataDir, 'encryption-keys.json'), 'utf8')), JSON.parse(cluster.encryptionKeysJson), 'the same Secret keys');
    assert.ok(joined.log.some((line) => line.includes('"mode":"join"') && line.includes(`"clusterId":"${cluster.clusterId}"`)));
    assert.ok(first.process.log.some((line) => line.includes('issued credentials to a node that proved it holds the join token')));

    // The newcomer admits the next board itself (mDNS may lead a board to any member).
    const third = await tokenJoin(group, 'pi3', token, joined.clientAddress);
    await third.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
    await waitFor('pi3 in the membership', async () => ((await members()).includes('pi3') ? true : null));
  });

  test('a token whose fingerprint is not the peer\'s CA refuses the peer, sends nothing it could use, and leaves the data dir empty', async () => {
    const other = readBundle((await writeClusterBundle(await group.scratchDir('other'), 'https://127.0.0.1:6443')).dir);
    const before = await members();
    const wrong = formatJoinToken(other.caFingerprint, readBundle(first.bundleDir).secret);
    const node = await tokenJoin(group, 'wrongfp', wrong, first.clientAddress);
    assert.equal((await node.waitForExit()).code, 1);
    assert.ok(node.log.some((line) => /is not a member of the token's cluster [0-9a-f]{16}: its certificate chain does not contain the CA the token pins/.test(line)), node.log.join('\n'));
    assert.equal(isBundle(join(node.dataDir, 'bundle')), false);
    assert.deepEqual(await members(), before);
  });

  test('a wrong secret is refused with 403 and nothing is issued', async () => {
    const before = await members();
    const wrong = formatJoinToken(readBundle(first.bundleDir).caFingerprint, Buffer.alloc(16, 7));
    const node = await tokenJoin(group, 'wrongsecret', wrong, first.clientAddress);
    assert.equal((await node.waitForExit()).code, 1);
    assert.ok(node.log.some((line) => /refused the join \(HTTP 403\): the join proof does not match this cluster's token/.test(line)), node.log.join('\n'));
    await first.process.waitForLog(/refused a join: the proof does not match/);
    assert.equal(isBundle(join(node.dataDir, 'bundle')), false);
    assert.deepEqual(await members(), before);
  });

  test('an impersonator that shows the real CA certificate but lacks its key is refused', async () => {
    const real = readBundle(first.bundleDir);
    const other = readBundle((await writeClusterBundle(await group.scratchDir('impostor'), 'https://127.0.0.1:6443')).dir);
    const fake = await ensureNodeCertificate(other, 'pi1', ['127.0.0.1']);
    // The CA certificate is public: the impostor sends it in its chain and echoes it back.
    const server = createServer({ cert: `${fake.certPem}${real.caCertPem}`, key: fake.keyPem, minVersion: 'TLSv1.3' }, (req, res) => {
      req.resume();
      const body = JSON.stringify({ clusterId: real.clusterId, caCert: real.caCertPem, nodeCert: fake.certPem, sealed: Buffer.alloc(64).toString('base64') });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const via = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(joinWithToken({ token: real.token, via, name: 'victim', hosts: ['127.0.0.1'] }), /own certificate is not from the token's CA: refusing it/);
    } finally {
      server.close();
    }
  });

  test('the join endpoint: garbage gets a clear 4xx, a rogue proof gets 403 and no credentials, the node keeps serving', async () => {
    const port = clientPort();
    const valid = { name: 'rogue', hosts: ['127.0.0.1'], publicKey: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n', proof: 'ab'.repeat(32) };
    const cases: [string, string | Buffer, number, RegExp, string?][] = [
      ['not JSON', 'hello', 400, /must be JSON/],
      ['an array', '[]', 400, /must be a JSON object/],
      ['a bad name', JSON.stringify({ ...valid, name: 'Not_A_Name' }), 400, /name must be a node name/],
      ['hosts not a list', JSON.stringify({ ...valid, hosts: 'x' }), 400, /hosts must be a list/],
      ['no public key', JSON.stringify({ ...valid, publicKey: 42 }), 400, /publicKey must be a PEM public key/],
      ['a short proof', JSON.stringify({ ...valid, proof: 'abc' }), 400, /proof must be 64 hex digits/],
      ['oversized', Buffer.alloc(200 * 1024, 32), 413, /at most 65536 bytes/],
      ['a rogue proof', JSON.stringify(valid), 403, /does not match this cluster's token/],
      ['GET', '', 405, /takes POST/, 'GET'],
    ];
    for (const [what, body, status, message, method] of cases) {
      const answer = await post(port, JOIN_CREDENTIALS_PATH, body, method);
      assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.json)}`);
      assert.match((answer.json['error'] as { message: string }).message, message, what);
      assert.equal(answer.json['sealed'], undefined, `${what}: nothing sealed`);
      assert.equal(answer.json['nodeCert'], undefined, `${what}: no certificate`);
    }
    const unknown = await post(port, '/v1/join/elsewhere', '{}');
    assert.equal(unknown.status, 404);
    assert.equal((await statusOf(first))?.role, 'leader', 'the node keeps serving');
  });

  // Last: it leaves 127.0.0.1 limited for a minute.
  test('wrong proofs are rate limited per address: 429 with Retry-After, then even the right token waits; another address is unaffected', async () => {
    const port = clientPort();
    const before = await members();
    const rogue = JSON.stringify({ name: 'guesser', hosts: ['127.0.0.1'], publicKey: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n', proof: 'cd'.repeat(32) });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof post>> | undefined;
    // The default burst is 10 wrong proofs (earlier tests spent two of them from this address).
    for (let attempt = 0; attempt < 12 && !limited; attempt++) {
      const answer = await post(port, JOIN_CREDENTIALS_PATH, rogue);
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }
    assert.ok(limited, `no 429 after ${statuses.length} wrong proofs: ${statuses.join(',')}`);
    assert.ok(statuses.slice(0, -1).every((status) => status === 403) && statuses.length >= 9, statuses.join(','));
    assert.equal((limited.json['error'] as { code: string }).code, 'too-many-wrong-proofs');
    assert.match((limited.json['error'] as { message: string }).message, /too many wrong join proofs from \S*127\.0\.0\.1: try again in \d+ s/);
    assert.match(limited.retryAfter ?? '', /^[1-9]\d*$/);
    // While limited, the proof is not even checked: the right token from this address waits too.
    await assert.rejects(joinWithToken({ token, via: first.clientAddress, name: 'patient', hosts: ['127.0.0.1'] }), /refused the join \(HTTP 429\): too many wrong join proofs/);
    // Another address has its own bucket.
    const elsewhere = await post(port, JOIN_CREDENTIALS_PATH, rogue, 'POST', '127.0.0.2');
    assert.equal(elsewhere.status, 403);
    await first.process.waitForLog(/further join requests from this address are refused \(429\) for a while/);
    assert.deepEqual(await members(), before, 'nothing was admitted');
  });
});
