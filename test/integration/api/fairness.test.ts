// Per-user limits on a real API server: a student who floods gets 429 TooManyRequests with
// Retry-After while another student and the admin are served; a student's requests in flight are
// capped; watches hold no seat once started; waiting Retry-After is enough; real kubectl honours
// it. Two token-file users (A, B) with the `edit` ClusterRole, the admin by client certificate.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addTokenUser } from '../../../src/api/auth/index.ts';
import { DEFAULT_FAIRNESS, TOO_MANY_REQUESTS } from '../../../src/api/fairness.ts';
import { clusterRoleBinding } from '../../lib/api-node.ts';
import { type Answer, startTestApi, type TestApi } from '../../lib/api-server.ts';
import { runKubectl } from '../../lib/kubectl.ts';
import { exchange } from '../../lib/tcp.ts';
import { waitFor } from '../../lib/wait.ts';

// A slow refill (one token every 2 s), so a drained bucket stays drained while kubectl starts.
const LIMITS = { user: { qps: 0.5, burst: 20, maxInflight: 3 }, usersMaxInflight: 50, system: DEFAULT_FAIRNESS.system };
const configMaps = '/api/v1/namespaces/default/configmaps';

let server: TestApi;
const tokens = { a: '', b: '' };

before(async () => {
  server = await startTestApi('api-fairness', { fairness: LIMITS });
  const tokenFile = join(server.dataDir, 'auth', 'tokens.csv');
  tokens.a = addTokenUser(tokenFile, { username: 'student-a', groups: [] });
  tokens.b = addTokenUser(tokenFile, { username: 'student-b', groups: [] });
  for (const user of ['student-a', 'student-b']) {
    const bound = await server.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', clusterRoleBinding(`${user}-edit`, user, 'edit'));
    assert.equal(bound.status, 201, bound.text);
  }
  // The token file is re-read within a second and RBAC follows the store: poll slowly, each probe costs a token.
  for (const token of [tokens.a, tokens.b]) {
    await waitFor('the student is authenticated and may list configmaps', async () => ((await server.call('GET', configMaps, undefined, { token })).status === 200 ? true : null), 30_000, 300);
  }
});

after(async () => {
  await server.stop();
});

/** Waits until the user's requests are served again (its bucket has refilled a little). */
async function servedAgain(token: string): Promise<void> {
  await waitFor('served again', async () => ((await server.call('GET', configMaps, undefined, { token })).status === 200 ? true : null), 60_000, 600);
}

function assertTooMany(answer: Answer): number {
  assert.equal(answer.status, 429, answer.text);
  const retryAfter = Number(answer.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${String(answer.headers['retry-after'])}`);
  assert.equal(answer.headers['content-type'], 'application/json');
  assert.equal(answer.body.kind, 'Status');
  assert.equal(answer.body.apiVersion, 'v1');
  assert.equal(answer.body.status, 'Failure');
  assert.equal(answer.body.code, 429);
  assert.equal(answer.body.reason, 'TooManyRequests');
  assert.equal(answer.body.message, TOO_MANY_REQUESTS);
  assert.equal((answer.body['details'] as { retryAfterSeconds?: number }).retryAfterSeconds, retryAfter);
  return retryAfter;
}

/** Opens a watch as `token` and resolves once its headers arrive, with a closer. */
function openWatch(token: string): Promise<{ status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ ca: server.credentials.ca, host: '127.0.0.1', port: server.port, path: `${configMaps}?watch=1`, agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.on('data', () => {});
      response.on('error', () => {});
      resolve({ status: response.statusCode ?? 0, close: () => outgoing.destroy() });
    });
    outgoing.on('error', (error: Error) => (outgoing.destroyed ? undefined : reject(error)));
    outgoing.end();
  });
}

/** A create whose body is held back: in flight on the server until `finish()`. */
function heldCreate(token: string, name: string): { answer: Promise<Answer>; finish: () => void } {
  const body = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { held: 'yes' } }));
  let finish = () => {};
  const answer = new Promise<Answer>((resolve, reject) => {
    const outgoing = request({ ca: server.credentials.ca, host: '127.0.0.1', port: server.port, method: 'POST', path: configMaps, agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) as Answer['body'], text });
      });
    });
    outgoing.on('error', reject);
    outgoing.flushHeaders();
    outgoing.write(body.subarray(0, 10));
    finish = () => outgoing.end(body.subarray(10));
  });
  return { answer, finish };
}

describe('per-user limits', { timeout: 180_000 }, () => {
  test('watches hold a seat only while they start: five open watches (the cap is 3) and a list are all served', async () => {
    await servedAgain(tokens.a);
    const watches = await Promise.all([1, 2, 3, 4, 5].map(() => openWatch(tokens.a)));
    try {
      assert.deepEqual(watches.map((w) => w.status), [200, 200, 200, 200, 200]);
      const list = await server.call('GET', configMaps, undefined, { token: tokens.a });
      assert.equal(list.status, 200, list.text);
    } finally {
      for (const watch of watches) watch.close();
    }
  });

  test('in flight: with three creates of B held open, B gets 429 (Retry-After 1) and A is served; then B again', async () => {
    // B has spent few of its tokens (A's were spent above): the three creates are not refused for the rate.
    const held = ['held-1', 'held-2', 'held-3'].map((name) => heldCreate(tokens.b, name));
    try {
      const refused = await waitFor('B refused for requests in flight', async () => {
        const answer = await server.call('GET', configMaps, undefined, { token: tokens.b });
        const cause = (answer.body['details'] as { causes?: { message?: string }[] } | undefined)?.causes?.[0]?.message ?? '';
        return answer.status === 429 && cause.includes('in flight') ? answer : null;
      }, 60_000, 300);
      assert.equal(assertTooMany(refused), 1);
      assert.equal((refused.body['details'] as { causes: { message: string }[] }).causes[0]?.message, 'student-b has 3 requests in flight, the most one user may have');
      await servedAgain(tokens.a);
    } finally {
      for (const h of held) h.finish();
    }
    for (const h of held) assert.equal((await h.answer).status, 201);
    await servedAgain(tokens.b);
  });

  test('A floods (a bounded loop): 429 with Retry-After once its burst is spent, while B and the admin are served; after Retry-After A is served', async () => {
    await servedAgain(tokens.a);
    const started = performance.now();
    const floodA = (async () => {
      const answers: Answer[] = [];
      for (let i = 0; i < 60; i++) answers.push(await server.call('GET', configMaps, undefined, { token: tokens.a }));
      return answers;
    })();
    const forB = (async () => {
      const answers: Answer[] = [];
      for (let i = 0; i < 5; i++) answers.push(await server.call('GET', configMaps, undefined, { token: tokens.b }));
      return answers;
    })();
    const forAdmin = (async () => {
      const answers: Answer[] = [];
      for (let i = 0; i < 30; i++) answers.push(await server.call('GET', configMaps));
      return answers;
    })();
    const [a, b, admin] = await Promise.all([floodA, forB, forAdmin]);
    const elapsedSeconds = (performance.now() - started) / 1000;
    const served = a.filter((x) => x.status === 200).length;
    const refused = a.filter((x) => x.status !== 200);
    assert.ok(refused.length > 0, 'A was refused at least once');
    let retryAfter = 0;
    for (const answer of refused) retryAfter = assertTooMany(answer);
    // The bucket's bound: its size plus what refilled meanwhile (+1 for the rounding of time).
    assert.ok(served <= LIMITS.user.burst + LIMITS.user.qps * elapsedSeconds + 1, `A served ${served} times in ${elapsedSeconds.toFixed(1)} s`);
    assert.deepEqual(b.map((x) => x.status), [200, 200, 200, 200, 200]);
    assert.ok(admin.every((x) => x.status === 200), `admin: ${admin.map((x) => x.status).join(',')}`);
    console.log(`A: ${served} served, ${refused.length} refused (Retry-After ${retryAfter}) in ${elapsedSeconds.toFixed(1)} s; B: 5/5; admin: ${admin.length}/${admin.length}`);

    // Health probes are exempt: A's empty bucket does not make the board look unwell.
    const probe = await server.call('GET', '/livez', undefined, { token: tokens.a });
    assert.equal(probe.status, 200, probe.text);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    const again = await server.call('GET', configMaps, undefined, { token: tokens.a });
    assert.equal(again.status, 200, `after waiting Retry-After ${retryAfter} s: ${again.text}`);
  });

  test('an exec (a WebSocket upgrade) over the limit gets the same 429 with Retry-After', async () => {
    await waitFor('A refused for its rate', async () => ((await server.call('GET', configMaps, undefined, { token: tokens.a })).status === 429 ? true : null), 30_000, 0);
    const upgrade = [
      'GET /api/v1/namespaces/default/pods/p/exec?command=sh&stdout=true HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${tokens.a}`,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol: v5.channel.k8s.io',
      '',
      '',
    ].join('\r\n');
    const answer = await exchange(server.port, { ca: server.credentials.ca }, upgrade);
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    const retryAfter = /\r\nretry-after: (\d+)\r\n/.exec(head)?.[1];
    assert.ok(retryAfter !== undefined && Number(retryAfter) >= 1, head);
    const status = JSON.parse(body) as { code: number; reason: string; message: string; details: { retryAfterSeconds: number } };
    assert.deepEqual([status.code, status.reason, status.message, status.details.retryAfterSeconds], [429, 'TooManyRequests', TOO_MANY_REQUESTS, Number(retryAfter)]);
  });

  test('real kubectl with an empty bucket waits as Retry-After says and succeeds', async () => {
    const made = await server.call('POST', configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'for-kubectl' } });
    assert.equal(made.status, 201, made.text);
    // Spend A's bucket first: kubectl needs several requests (discovery, then the list), more than refill meanwhile.
    await waitFor('A refused for its rate', async () => ((await server.call('GET', configMaps, undefined, { token: tokens.a })).status === 429 ? true : null), 30_000, 0);
    const caFile = join(server.dataDir, 'test-ca.crt');
    writeFileSync(caFile, server.credentials.ca);
    const run = await runKubectl(['--server', `https://127.0.0.1:${server.port}`, '--certificate-authority', caFile, '--token', tokens.a, '-v=4', 'get', 'configmaps', '-n', 'default', '-o', 'name'], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Retry-After/);
    assert.match(run.stdout, /configmap\/for-kubectl/);
  });
});
