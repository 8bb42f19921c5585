// The bodies kubectl 1.32 itself sends for the course's imperative commands (`kubectl create
// deployment|service|configmap|secret|job|namespace|serviceaccount|rolebinding ...`), generated
// offline with --dry-run=client (`kubectl run` and `create role` need the server's discovery, so
// they are left to the end-to-end tests): after the server's defaulting they must validate clean
// and declare no field unknown to fieldValidation=Strict (kubectl sends Strict).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { applyDefaults, findByKind, prepareForCreate, unknownFields, validateCreate, type KubeObject } from '../../../../src/api/resources/index.ts';
import { OfflineKubectl, skipWithoutKubectl } from './fixtures/kubectl.ts';

const kubectl = new OfflineKubectl();
after(() => kubectl.close());

const COMMANDS: string[][] = [
  ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80'],
  ['create', 'deployment', 'two', '--image=nginx', '--image=redis'],
  ['create', 'service', 'clusterip', 'web', '--tcp=80:8080'],
  ['create', 'service', 'clusterip', 'headless', '--clusterip=None'],
  ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'],
  ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
  ['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b.txt=x'],
  ['create', 'secret', 'generic', 's', '--from-literal=password=p'],
  ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.local', '--docker-username=u', '--docker-password=p'],
  ['create', 'job', 'pi', '--image=perl:5.34.0', '--', 'perl', '-e', '1'],
  ['create', 'namespace', 'student1'],
  ['create', 'serviceaccount', 'ci'],
  ['create', 'rolebinding', 'rb', '--clusterrole=edit', '--user=alice', '--serviceaccount=default:ci'],
  ['create', 'clusterrolebinding', 'crb', '--clusterrole=view', '--group=students'],
];

test('objects kubectl creates validate clean with no unknown fields', { skip: skipWithoutKubectl }, () => {
  for (const args of COMMANDS) {
    const dash = args.indexOf('--');
    const withFlags = dash < 0 ? [...args, '--dry-run=client', '-o', 'json'] : [...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)];
    const out = kubectl.output(withFlags);
    const body = JSON.parse(out) as KubeObject;
    const info = findByKind(body.apiVersion, body.kind);
    assert.ok(info, `${args.join(' ')}: ${body.apiVersion} ${body.kind} is served`);
    // The server takes the namespace from the URL when the body has none.
    if (info.namespaced && !body.metadata.namespace) body.metadata.namespace = 'default';
    assert.deepEqual(unknownFields(info, body), [], `${args.join(' ')}: fields`);
    const stored = prepareForCreate(info, applyDefaults(info, body), { uid: '5a1e2f3c4b5d6e7f', now: new Date('2026-11-23T08:00:00Z') });
    assert.deepEqual(validateCreate(info, stored).map((e) => `${e.field}: ${e.message}`), [], `${args.join(' ')}: valid`);
    assert.deepEqual(unknownFields(info, stored), [], `${args.join(' ')}: fields after defaulting`);
  }
});
