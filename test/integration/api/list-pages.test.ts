// Paged lists are one snapshot, as Kubernetes serves them: every page is read at the first page's
// resourceVersion, so objects created, changed or deleted between pages neither appear, change nor
// vanish; a token the server did not make is a 400 with Kubernetes' message, a token whose revision
// was compacted a 410 Expired (with the inconsistent-continue token), and real kubectl's
// --chunk-size walks the pages. The real API server (HTTPS) over a real single-member Raft node
// with its LevelDB store; expected answers are written from Kubernetes' behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_WRITES_PER_TXN, type RegistryWrite } from '../../../src/api/registry.ts';
import { findResource } from '../../../src/api/resources/index.ts';
import { startTestApi, type TestApi } from '../../lib/api-server.ts';
import { kubectl } from '../../lib/kubectl.ts';

interface ConfigMap {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

interface ListBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  status?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items?: ConfigMap[];
}

let server: TestApi;

before(async () => {
  server = await startTestApi('api-pages');
});

after(async () => {
  await server.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: ListBody }> {
  const answer = await server.call(method, path, body);
  return { status: answer.status, body: answer.body as unknown as ListBody };
}

async function ok(method: string, path: string, body?: unknown): Promise<ListBody> {
  const answer = await call(method, path, body);
  assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const collection = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;

async function makeNamespace(ns: string, count: number, labels: (i: number) => Record<string, string> = () => ({})): Promise<void> {
  await ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (let i = 0; i < count; i++) await putConfigMap(ns, `cm-${String(i).padStart(2, '0')}`, labels(i));
}

function putConfigMap(ns: string, name: string, labels: Record<string, string> = {}): Promise<ListBody> {
  return ok('POST', collection(ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { v: 'first' } });
}

/** The pages after `first`, each fetched with its predecessor's token; every page's own metadata kept. */
async function remainingPages(path: string, first: ListBody, query = ''): Promise<ListBody[]> {
  const pages: ListBody[] = [];
  let token = first.metadata.continue;
  while (token !== undefined) {
    const page = await ok('GET', `${path}?limit=3${query}&continue=${encodeURIComponent(token)}`);
    pages.push(page);
    token = page.metadata.continue;
  }
  return pages;
}

const summary = (items: ConfigMap[] | undefined) => (items ?? []).map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}:${o.data?.['v'] ?? ''}`);

describe('a paged list is one snapshot', () => {
  test('creates, updates and deletes between pages: the pages equal the list taken with the first page', async () => {
    const ns = 'pages-snapshot';
    await makeNamespace(ns, 10);
    const whole = await ok('GET', collection(ns));
    const first = await ok('GET', `${collection(ns)}?limit=3`);
    // Nothing was written between the two reads, so `whole` is the list at the first page's revision.
    assert.equal(first.metadata.resourceVersion, whole.metadata.resourceVersion);
    assert.equal(first.items?.length, 3);
    assert.equal(first.metadata.remainingItemCount, 7);
    assert.ok(first.metadata.continue, 'a first page of 3 out of 10 has a continue token');

    // Between the pages: one object created inside the rest of the range and one after it, two
    // not yet returned deleted, one not yet returned changed.
    await putConfigMap(ns, 'cm-03a');
    await putConfigMap(ns, 'cm-99');
    await ok('DELETE', `${collection(ns)}/cm-05`);
    await ok('DELETE', `${collection(ns)}/cm-08`);
    const changed = await ok('GET', `${collection(ns)}/cm-07`) as unknown as ConfigMap;
    await ok('PUT', `${collection(ns)}/cm-07`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: changed.metadata, data: { v: 'second' } });

    const rest = await remainingPages(collection(ns), first);
    assert.deepEqual(rest.map((p) => p.items?.length), [3, 3, 1]);
    for (const page of rest) assert.equal(page.metadata.resourceVersion, first.metadata.resourceVersion, 'every page is served at the first page\'s revision');
    assert.deepEqual(rest.map((p) => p.metadata.remainingItemCount), [4, 1, undefined]);
    assert.equal(rest.at(-1)?.metadata.continue, undefined, 'the last page has no token');

    const union = [...summary(first.items), ...rest.flatMap((p) => summary(p.items))];
    assert.equal(new Set(union).size, union.length, 'no object twice');
    assert.deepEqual(union, summary(whole.items));

    // The writes did happen: a list now sees them.
    const now = (await ok('GET', collection(ns))).items?.map((o) => o.metadata.name);
    assert.deepEqual(now, ['cm-00', 'cm-01', 'cm-02', 'cm-03', 'cm-03a', 'cm-04', 'cm-06', 'cm-07', 'cm-09', 'cm-99']);
  });

  test('a label selector applies per page: limit counts matches, pages may be short, no remainingItemCount', async () => {
    const ns = 'pages-selector';
    await makeNamespace(ns, 12, (i) => ({ parity: i % 2 === 0 ? 'even' : 'odd' }));
    const query = '&labelSelector=parity%3Deven';
    const whole = await ok('GET', `${collection(ns)}?labelSelector=parity%3Deven`);
    const first = await ok('GET', `${collection(ns)}?limit=3${query}`);
    assert.equal(first.metadata.resourceVersion, whole.metadata.resourceVersion);
    assert.deepEqual(first.items?.map((o) => o.metadata.name), ['cm-00', 'cm-02', 'cm-04']);
    assert.equal(first.metadata.remainingItemCount, undefined, 'with a selector the remainder is unknown, as in Kubernetes');
    await ok('DELETE', `${collection(ns)}/cm-06`);
    await putConfigMap(ns, 'cm-07a', { parity: 'even' });
    const rest = await remainingPages(collection(ns), first, query);
    const union = [...summary(first.items), ...rest.flatMap((p) => summary(p.items))];
    assert.deepEqual(union, summary(whole.items));
  });

  test('resourceVersionMatch=Exact lists the state at that revision', async () => {
    const ns = 'pages-exact';
    await makeNamespace(ns, 3);
    const before = await ok('GET', collection(ns));
    await ok('DELETE', `${collection(ns)}/cm-01`);
    await putConfigMap(ns, 'cm-05');
    const exact = await ok('GET', `${collection(ns)}?resourceVersion=${before.metadata.resourceVersion ?? ''}&resourceVersionMatch=Exact`);
    assert.equal(exact.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual(summary(exact.items), summary(before.items));
  });
});

/** A token as Kubernetes encodes one: base64url (no padding) of its JSON. */
const token = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString('base64url');

describe('a continue token the server did not make: 400 BadRequest with Kubernetes\' message', () => {
  const cases: [string, string, string][] = [
    ['not base64', 'garbage!', 'invalid continue token: continue key is not valid: illegal base64 data at input byte 7'],
    ['base64 of a length no encoder makes', 'abcde', 'invalid continue token: continue key is not valid: illegal base64 data at input byte 4'],
    ['base64 of text that is not JSON', Buffer.from('hello').toString('base64url'), "invalid continue token: continue key is not valid: invalid character 'h' looking for beginning of value"],
    ['a revision of 0', token({ v: 'meta.k8s.io/v1', rv: 0, start: 'cm-01\u0000' }), 'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'],
    ['an empty start key', token({ v: 'meta.k8s.io/v1', rv: 5, start: '' }), 'invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)'],
    ['an unknown version', token({ v: 'meta.k8s.io/v2', rv: 5, start: 'cm-01' }), 'invalid continue token: continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2'],
    ['a revision that is a string', token({ v: 'meta.k8s.io/v1', rv: '5', start: 'cm-01' }), 'invalid continue token: continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64'],
    ['a start key that walks out of the namespace into Secrets', token({ v: 'meta.k8s.io/v1', rv: 5, start: '../../secrets/default/a' }), 'invalid continue token: continue key is not valid: ../../secrets/default/a'],
  ];
  for (const [what, value, message] of cases) {
    test(what, async () => {
      const answer = await call('GET', `${collection('default')}?limit=2&continue=${encodeURIComponent(value)}`);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 });
    });
  }

  test('a real token cut short (as a bad copy and paste does): Go\'s "unexpected end of JSON input"', async () => {
    const first = await ok('GET', '/api/v1/namespaces?limit=1');
    const cut = (first.metadata.continue ?? '').slice(0, 20); // 15 bytes: {"v":"meta.k8s.
    const answer = await call('GET', `/api/v1/namespaces?limit=1&continue=${cut}`);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.message, 'invalid continue token: continue key is not valid: unexpected end of JSON input');
  });

  test('a revision the store has not reached (a forged token, an exact resourceVersion from nowhere): the 500 Kubernetes passes on from etcd', async () => {
    const future = server.node.store.local.revision() + 1_000_000;
    const forged = await call('GET', `/api/v1/namespaces?limit=1&continue=${token({ v: 'meta.k8s.io/v1', rv: future, start: 'default\u0000' })}`);
    const exact = await call('GET', `/api/v1/namespaces?resourceVersion=${future}&resourceVersionMatch=Exact`);
    for (const answer of [forged, exact]) {
      assert.equal(answer.status, 500, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'etcdserver: mvcc: required revision is a future revision', code: 500 });
    }
  });

  test('an exact resourceVersion that is not a number: the etcd3 store\'s 400', async () => {
    for (const query of ['resourceVersion=abc&resourceVersionMatch=Exact', 'resourceVersion=abc&limit=2']) {
      const answer = await call('GET', `/api/v1/namespaces?${query}`);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'BadRequest', code: 400, message: 'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax' });
    }
  });

  test('limit as Kubernetes reads it: negative is no limit; not an int64 is strconv.ParseInt\'s 400', async () => {
    const all = await ok('GET', '/api/v1/namespaces');
    const negative = await ok('GET', '/api/v1/namespaces?limit=-1');
    assert.deepEqual(negative.items?.map((o) => o.metadata.name), all.items?.map((o) => o.metadata.name));
    assert.equal(negative.metadata.continue, undefined);
    const cases: [string, string][] = [
      ['abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
      ['1.5', 'strconv.ParseInt: parsing "1.5": invalid syntax'],
      ['99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
    ];
    for (const [limit, message] of cases) {
      const answer = await call('GET', `/api/v1/namespaces?limit=${limit}`);
      assert.deepEqual({ status: answer.status, body: answer.body }, { status: 400, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'BadRequest', code: 400, message } });
    }
  });

  test('a token together with a resourceVersion', async () => {
    const first = await ok('GET', '/api/v1/namespaces?limit=1');
    const answer = await call('GET', `/api/v1/namespaces?limit=1&resourceVersion=${first.metadata.resourceVersion ?? ''}&continue=${encodeURIComponent(first.metadata.continue ?? '')}`);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.reason, 'BadRequest');
    assert.equal(answer.body.message, 'specifying resource version is not allowed when using continue');
  });

  test('resourceVersionMatch without a resourceVersion: 422 on ListOptions', async () => {
    const answer = await call('GET', `${collection('default')}?resourceVersionMatch=Exact`);
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Invalid', code: 422,
      message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      details: { group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }] },
    });
  });
});

describe('a token whose revision was compacted', () => {
  test('410 Expired with Kubernetes\' message and a token that lists the rest at the current revision', async () => {
    const ns = 'pages-compacted';
    await makeNamespace(ns, 6);
    const first = await ok('GET', `${collection(ns)}?limit=3`);
    await ok('DELETE', `${collection(ns)}/cm-04`);
    await putConfigMap(ns, 'cm-04a');
    const current = server.node.store.local.revision();
    await server.node.store.compact(current);

    const answer = await call('GET', `${collection(ns)}?limit=3&continue=${encodeURIComponent(first.metadata.continue ?? '')}`);
    assert.equal(answer.status, 410, JSON.stringify(answer.body));
    assert.equal(answer.body.kind, 'Status');
    assert.equal(answer.body.status, 'Failure');
    assert.equal(answer.body.reason, 'Expired');
    assert.equal(answer.body.code, 410);
    assert.equal(
      answer.body.message,
      'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    );
    const inconsistent = answer.body.metadata.continue;
    assert.ok(inconsistent, 'the 410 carries a token for the rest');
    // That token continues after the first page, in the current state (which has cm-04a, not cm-04).
    const rest = await ok('GET', `${collection(ns)}?limit=3&continue=${encodeURIComponent(inconsistent)}`);
    assert.deepEqual(rest.items?.map((o) => o.metadata.name), ['cm-03', 'cm-04a', 'cm-05']);
    assert.equal(Number(rest.metadata.resourceVersion) >= current, true, `read at the current revision (${rest.metadata.resourceVersion} >= ${current})`);

    const exact = await call('GET', `${collection(ns)}?resourceVersion=${first.metadata.resourceVersion ?? ''}&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 410, JSON.stringify(exact.body));
    assert.equal(exact.body.reason, 'Expired');
    assert.equal(exact.body.message, 'The resourceVersion for the provided list is too old.');
  });
});

describe('real kubectl', () => {
  // This test comes before the 503 objects of the next one: its -A lists would otherwise walk them in
  // about 135 pages of 4, and kubectl sends at most 5 requests a second (client-side throttling,
  // 25 s). The pages still cross namespaces: those of the tests above and this test's own.
  test('get --chunk-size=2 walks every page (limit and continue on the wire) and prints each object once', async () => {
    const ns = 'pages-kubectl';
    await makeNamespace(ns, 7);
    const run = await kubectl(server.api.kubeconfigPath, ['get', 'configmaps', '-n', ns, '--chunk-size=2', '-v=6']);
    assert.equal(run.code, 0, run.stderr);
    const names = run.stdout.split('\n').slice(1).map((line) => line.split(/\s+/)[0]).filter((name) => name);
    assert.deepEqual(names, ['cm-00', 'cm-01', 'cm-02', 'cm-03', 'cm-04', 'cm-05', 'cm-06']);
    assert.equal(run.stdout.split('\n').filter((line) => line.startsWith('NAME')).length, 1, 'one header for all pages');
    const requests = run.stderr.split('\n').filter((line) => line.includes(`/namespaces/${ns}/configmaps?`));
    assert.equal(requests.length, 4, `four pages of at most 2:\n${requests.join('\n')}`);
    assert.equal(requests.filter((line) => line.includes('limit=2') && line.includes('continue=')).length, 3);

    const named = await kubectl(server.api.kubeconfigPath, ['get', 'configmaps', '-n', ns, '--chunk-size=3', '-o', 'name']);
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(named.stdout.trim().split('\n'), ['cm-00', 'cm-01', 'cm-02', 'cm-03', 'cm-04', 'cm-05', 'cm-06'].map((n) => `configmap/${n}`));

    // Across namespaces (-A): the tokens carry namespace/name; pages of 4 give what one unpaged list gives.
    const whole = await kubectl(server.api.kubeconfigPath, ['get', 'configmaps', '-A', '--chunk-size=0', '--no-headers']);
    const paged = await kubectl(server.api.kubeconfigPath, ['get', 'configmaps', '-A', '--chunk-size=4', '--no-headers']);
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(paged.code, 0, paged.stderr);
    const rows = (out: string) => out.trim().split('\n').map((line) => line.split(/\s+/).slice(0, 2).join('/'));
    assert.ok(rows(whole.stdout).length > 8, whole.stdout);
    assert.deepEqual(rows(paged.stdout), rows(whole.stdout));
  });

  test('get without --chunk-size pages by 500, its default: 503 objects in two pages, each once', async () => {
    const ns = 'pages-default-chunk';
    await ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const names = Array.from({ length: 503 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
    // Stored through the registry in transactions of its maximum size: 503 API round trips would only add time.
    const info = findResource('', 'v1', 'configmaps');
    assert.ok(info);
    for (let i = 0; i < names.length; i += MAX_WRITES_PER_TXN) {
      const writes: RegistryWrite[] = names.slice(i, i + MAX_WRITES_PER_TXN).map((name) => ({ op: 'create', info, namespace: ns, obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: 'first' } } }));
      assert.equal(await server.api.registry.writeAll(writes), true);
    }
    const run = await kubectl(server.api.kubeconfigPath, ['get', 'configmaps', '-n', ns, '-o', 'name', '-v=6'], undefined, 120_000);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), names.map((n) => `configmap/${n}`));
    const requests = run.stderr.split('\n').filter((line) => line.includes(`/namespaces/${ns}/configmaps?`));
    assert.equal(requests.length, 2, requests.join('\n'));
    assert.ok(requests[0]?.includes('limit=500') && !requests[0].includes('continue='), requests[0]);
    assert.ok(requests[1]?.includes('limit=500') && requests[1].includes('continue='), requests[1]);
  });
});
