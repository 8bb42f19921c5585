// /livez, /readyz and /healthz of the real API server (HTTPS, a real single-member Raft node),
// answered as the Kubernetes API server answers them: the plain and verbose texts, one check,
// ?exclude, an unknown check, and who may ask without credentials (system:public-info-viewer
// for the three roots, system:monitoring for one check's reason).
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { raftLeaderCheck, shutdownCheck } from '../../../src/node/health.ts';
import { type Answer, startTestApi, type TestApi } from '../../lib/api-server.ts';
import { waitFor } from '../../lib/wait.ts';

let server: TestApi;
let stopping = false;

before(async () => {
  server = await startTestApi('api-health', (node) => {
    const leader = raftLeaderCheck(node.node);
    return { healthChecks: { readyz: [leader, shutdownCheck(() => stopping)], healthz: [leader] } };
  });
  appendFileSync(join(server.dataDir, 'auth', 'tokens.csv'), 'bob-token,bob,1002\nmon-token,prometheus,1003,"system:monitoring"\n');
  // The token file is re-read when it changes; wait until both users are known.
  await waitFor('the token users are known', async () => ((await get('/readyz', { token: 'mon-token' })).status === 200 && (await get('/readyz', { token: 'bob-token' })).status === 200 ? true : undefined), 30_000);
  await waitFor('the raft-leader check passes', async () => ((await get('/readyz/raft-leader')).status === 200 ? true : undefined), 30_000);
});

after(() => server.stop());

/** A request as the admin (client certificate), with a token, or with no credentials at all; `body` is the text. */
async function get(path: string, who: { anonymous?: boolean; token?: string; method?: string } = {}): Promise<Omit<Answer, 'body' | 'text'> & { body: string }> {
  const { method = 'GET', ...options } = who;
  const answer = await server.call(method, path, undefined, options);
  return { status: answer.status, headers: answer.headers, body: answer.text };
}

describe('health endpoints answer as Kubernetes', () => {
  test('the three roots answer "ok" as plain text with nosniff', async () => {
    for (const path of ['/readyz', '/livez', '/healthz']) {
      const answer = await get(path);
      assert.equal(answer.status, 200, path);
      assert.equal(answer.body, 'ok');
      assert.equal(answer.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('?verbose lists every check of the endpoint and ends with "<endpoint> check passed"', async () => {
    assert.equal((await get('/readyz?verbose')).body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader ok\n[+]shutdown ok\nreadyz check passed\n');
    assert.equal((await get('/livez?verbose')).body, '[+]ping ok\n[+]event-loop ok\nlivez check passed\n');
    assert.equal((await get('/healthz?verbose')).body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader ok\nhealthz check passed\n');
  });

  test('/readyz/<check> runs that check alone; an unknown check (or a path below one) is 404', async () => {
    assert.deepEqual(await get('/readyz/raft-leader').then((a) => [a.status, a.body]), [200, 'ok']);
    assert.deepEqual(await get('/livez/event-loop').then((a) => [a.status, a.body]), [200, 'ok']);
    for (const path of ['/readyz/nonsense', '/livez/raft-leader', '/readyz/ping/more', '/readyz/']) {
      const answer = await get(path);
      assert.equal(answer.status, 404, path);
      assert.deepEqual(JSON.parse(answer.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server could not find the requested resource (GET ${path})`, reason: 'NotFound', code: 404 });
    }
  });

  test('?exclude skips a check; a name that matches none is warned about', async () => {
    assert.equal((await get('/readyz?verbose&exclude=raft-leader&exclude=nope&exclude=etcd')).body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader excluded: ok\n[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for "etcd","nope"\nreadyz check passed\n');
    assert.equal((await get('/readyz?exclude=raft-leader')).body, 'ok');
  });

  test('a failing check: 500, always verbose, the reason withheld at the root and told by the check itself; ?exclude lets the rest pass', async () => {
    stopping = true;
    try {
      const root = await get('/readyz');
      assert.equal(root.status, 500);
      assert.equal(root.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(root.body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n');
      assert.deepEqual(await get('/readyz/shutdown').then((a) => [a.status, a.body]), [500, 'internal server error: the node is shutting down\n']);
      assert.deepEqual(await get('/readyz?exclude=shutdown').then((a) => [a.status, a.body]), [200, 'ok']);
      assert.deepEqual(await get('/livez').then((a) => [a.status, a.body]), [200, 'ok'], 'liveness has no shutdown check');
      assert.deepEqual(await get('/healthz').then((a) => [a.status, a.body]), [200, 'ok']);
    } finally {
      stopping = false;
    }
    assert.equal((await get('/readyz')).status, 200);
  });
});

describe('who may ask, as Kubernetes bootstrap RBAC and anonymous authentication allow', () => {
  test('without credentials: the three roots (system:public-info-viewer), verbose included', async () => {
    for (const path of ['/readyz', '/livez', '/healthz']) assert.deepEqual(await get(path, { anonymous: true }).then((a) => [a.status, a.body]), [200, 'ok'], path);
    assert.equal((await get('/readyz?verbose', { anonymous: true })).body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader ok\n[+]shutdown ok\nreadyz check passed\n');
  });

  test('without credentials: one check, which tells its reason, is 403 for system:anonymous', async () => {
    for (const path of ['/readyz/raft-leader', '/livez/ping', '/healthz/event-loop', '/readyz/nonsense']) {
      const answer = await get(path, { anonymous: true });
      assert.equal(answer.status, 403, path);
      assert.deepEqual(JSON.parse(answer.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `forbidden: User "system:anonymous" cannot get path "${path}"`, reason: 'Forbidden', code: 403 });
    }
  });

  test('without credentials: only GET of the health paths; anything else stays 401', async () => {
    const post = await get('/readyz', { anonymous: true, method: 'POST' });
    assert.equal(post.status, 403);
    assert.equal(JSON.parse(post.body).message, 'forbidden: User "system:anonymous" cannot post path "/readyz"');
    for (const path of ['/version', '/api', '/api/v1/namespaces/default/configmaps', '/readyzz']) {
      const answer = await get(path, { anonymous: true });
      assert.equal(answer.status, 401, path);
      assert.deepEqual(JSON.parse(answer.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  test('a wrong token is 401 even on /readyz, as in Kubernetes (anonymous means no credentials at all); a Basic header is no credential', async () => {
    const answer = await get('/readyz', { token: 'wrong-token' });
    assert.equal(answer.status, 401);
    assert.equal(JSON.parse(answer.body).reason, 'Unauthorized');
    const basic = await server.call('GET', '/readyz', undefined, { anonymous: true, headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
    assert.deepEqual([basic.status, basic.text], [200, 'ok']);
    const basicElsewhere = await server.call('GET', '/api', undefined, { anonymous: true, headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
    assert.equal(basicElsewhere.status, 401);
  });

  test('an authenticated user: the roots yes, one check no; a system:monitoring user: both', async () => {
    assert.deepEqual(await get('/readyz?verbose', { token: 'bob-token' }).then((a) => a.status), 200);
    const bob = await get('/readyz/raft-leader', { token: 'bob-token' });
    assert.equal(bob.status, 403);
    assert.equal(JSON.parse(bob.body).message, 'forbidden: User "bob" cannot get path "/readyz/raft-leader"');
    assert.deepEqual(await get('/readyz/raft-leader', { token: 'mon-token' }).then((a) => [a.status, a.body]), [200, 'ok']);
    assert.deepEqual(await get('/livez/event-loop', { token: 'mon-token' }).then((a) => [a.status, a.body]), [200, 'ok']);
  });
});
