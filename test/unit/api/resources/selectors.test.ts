import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  findByKind, labelSelectorFromObject, labelSelectorString, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError,
  type KubeObject,
} from '../../../../src/api/resources/index.ts';

const labels = { app: 'web', tier: 'fe', version: '3' };

test('label selector: equality, set, existence and numeric requirements', () => {
  const yes = ['', 'app=web', 'app==web', 'app!=db', 'app in (web,db)', 'tier notin (be)', 'app', '!canary', 'version>2', 'version<4',
    'app=web,tier=fe', ' app = web , tier in ( fe ) ', 'canary!=true', 'canary notin (x)', 'example.com/x!=y'];
  const no = ['app=db', 'app!=web', 'app in (db)', 'tier notin (fe,be)', 'canary', '!app', 'version>3', 'version<3', 'app=web,tier=be', 'tier>1'];
  for (const s of yes) assert.equal(matchesLabels(parseLabelSelector(s), labels), true, s);
  for (const s of no) assert.equal(matchesLabels(parseLabelSelector(s), labels), false, s);
  assert.equal(matchesLabels(parseLabelSelector('app='), { app: '' }), true);
  assert.equal(matchesLabels(parseLabelSelector('app='), {}), false);
});

test('label selector: syntax errors name the problem', () => {
  const bad: [string, RegExp][] = [
    ['app=web,', /^found '', expected: identifier after ','$/],
    ['=web', /^found '=', expected: !, identifier, or 'end of string'$/],
    ['app in web', /^unable to parse requirement: found 'web' expected: '\('$/],
    ['app in (a b)', /expected: ',' or '\)'$/],
    ['app (x)', /^unable to parse requirement: found '\(', expected: in, notin, =, ==, !=, gt, lt$/],
    ['Bad Key=x', /found 'Key'/],
    ['bad_/key=x', /^unable to parse requirement: <nil>: Invalid value: "bad_\/key": prefix part a lowercase RFC 1123 subdomain/],
    ['app=-web', /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "-web": a valid label must be an empty string/],
    ['version>x', /must be an integer/],
    ['!', /^unable to parse requirement: found '', expected: identifier$/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => parseLabelSelector(s), (e: unknown) => e instanceof SelectorError && re.test(e.message), s);
  }
});

test('label selector: from a spec object, nil selects nothing, empty selects all', () => {
  assert.equal(matchesLabels(labelSelectorFromObject(undefined), labels), false);
  assert.equal(matchesLabels(labelSelectorFromObject({}), labels), true);
  const sel = labelSelectorFromObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }, { key: 'canary', operator: 'DoesNotExist' }] });
  assert.equal(matchesLabels(sel, labels), true);
  assert.equal(matchesLabels(sel, { ...labels, canary: 'x' }), false);
  assert.equal(labelSelectorString(sel), 'app=web,tier in (be,fe),!canary');
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), /values set can't be empty/);
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), /must be empty/);
});

test('field selector: supported fields per kind, escapes, != and unknown fields', () => {
  const pods = findByKind('v1', 'Pod');
  const secrets = findByKind('v1', 'Secret');
  assert.ok(pods && secrets);
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a,b', namespace: 'default' }, spec: { nodeName: 'pi-1' }, status: { phase: 'Running' } };
  const unscheduled: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'u', namespace: 'default' }, spec: {}, status: { phase: 'Pending' } };
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName=pi-1', pods), pod), true);
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName==pi-2', pods), pod), false);
  assert.equal(matchesFields(parseFieldSelector('status.phase!=Running', pods), pod), false);
  assert.equal(matchesFields(parseFieldSelector('status.phase!=Running', pods), unscheduled), true);
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName=', pods), unscheduled), true);
  assert.equal(matchesFields(parseFieldSelector('metadata.name=a\\,b,metadata.namespace=default', pods), pod), true);
  assert.throws(() => parseFieldSelector('spec.foo=x', pods), /field label not supported: spec.foo/);
  assert.throws(() => parseFieldSelector('type=Opaque', pods), /field label not supported: type/);
  assert.equal(parseFieldSelector('type=Opaque', secrets).requirements.length, 1);
  const deployments = findByKind('apps/v1', 'Deployment');
  assert.ok(deployments);
  assert.throws(() => parseFieldSelector('spec.replicas=1', deployments), /^SelectorError: "spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"$/);
  assert.throws(() => parseFieldSelector('metadata.name', pods), /can't understand 'metadata.name'/);
  assert.throws(() => parseFieldSelector('metadata.name=a\\x', pods), /invalid escape/);
});
