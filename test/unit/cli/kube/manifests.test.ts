import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManifestError, parseManifests, readManifests } from '../../../../src/cli/kube/manifests.ts';
import { NGINX_DEPLOYMENT, SERVICE } from '../../../lib/docs-manifests.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-manifests-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('manifests for apply/create/delete -f', () => {
  test('a multi-document file from the Kubernetes docs, separators and comment-only documents skipped', () => {
    const got = parseManifests(`---\n${NGINX_DEPLOYMENT}---\n# just a comment\n---\n${SERVICE}`, 'app.yaml');
    assert.deepEqual(got.map((m) => [m.source, m.object.kind, m.object.metadata.name]), [
      ['app.yaml (document 1)', 'Deployment', 'nginx-deployment'],
      ['app.yaml (document 3)', 'Service', 'my-service'],
    ]);
    assert.equal((got[0]?.object['spec'] as { replicas: number }).replicas, 3);
  });

  test('JSON and kind: List (items expanded)', () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } }] });
    assert.deepEqual(parseManifests(list, 'l.json').map((m) => [m.source, m.object.metadata.name]), [
      ['l.json items[0]', 'a'],
      ['l.json items[1]', 'b'],
    ]);
  });

  test('a directory: its .yaml/.yml/.json files in name order, subdirectories only with recursive', () => {
    const dir = join(tmp, 'course');
    mkdirSync(join(dir, 'extra'), { recursive: true });
    writeFileSync(join(dir, 'b-service.yml'), SERVICE);
    writeFileSync(join(dir, 'a-deploy.yaml'), NGINX_DEPLOYMENT);
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    writeFileSync(join(dir, 'extra', 'cm.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }));
    assert.deepEqual(readManifests([dir]).map((m) => m.object.kind), ['Deployment', 'Service']);
    assert.deepEqual(readManifests([dir], { recursive: true }).map((m) => m.object.kind), ['Deployment', 'Service', 'ConfigMap']);
  });

  test('- reads stdin', () => {
    assert.deepEqual(readManifests(['-'], { readStdin: () => SERVICE }).map((m) => m.source), ['stdin']);
  });

  test('errors name the file, the document and what to write', () => {
    const bad = (text: string, pattern: RegExp): void => {
      assert.throws(() => parseManifests(text, 'x.yaml'), (err: unknown) => err instanceof ManifestError && pattern.test(err.message), pattern.source);
    };
    bad('a: [\n', /^error: x\.yaml: invalid YAML at line 2, column 1/);
    bad('kind: Pod\nmetadata: {name: p}\n', /x\.yaml: apiVersion not set \(e\.g\. apiVersion: v1/);
    bad('apiVersion: v1\nmetadata: {name: p}\n', /kind not set/);
    bad('- just\n- a list\n', /must be a mapping/);
    bad('apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\n', /invalid YAML.*[Mm]ap keys must be unique/);
    bad(`${SERVICE}---\nkind: Pod\n`, /x\.yaml \(document 2\): apiVersion not set/);
    bad('apiVersion: v1\nkind: List\nitems: [{kind: Pod}]\n', /x\.yaml items\[0\]: apiVersion not set/);
    assert.throws(() => readManifests([join(tmp, 'missing.yaml')]), /missing\.yaml: the path does not exist/);
    assert.throws(() => readManifests([]), /give a file, a directory or - for stdin/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    assert.throws(() => readManifests([empty]), /holds no \.yaml, \.yml or \.json file/);
    writeFileSync(join(empty, 'only-comments.yaml'), '# nothing\n---\n');
    assert.throws(() => readManifests([empty]), /no objects in the input/);
  });

  test('a YAML alias bomb is refused before it expands', () => {
    const bomb = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f']] as const) {
      bomb.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    assert.throws(() => parseManifests(bomb.join('\n'), 'bomb.yaml'), /bomb\.yaml: refused: Excessive alias count/);
  });
});
