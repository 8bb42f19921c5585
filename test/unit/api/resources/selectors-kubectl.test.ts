// Our label selector parser against Kubernetes' own: `kubectl set selector --local` parses its
// argument with the apimachinery parser the API server uses for `labelSelector`, offline. A parse
// error must read the same from both; what kubectl parses, ours must accept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseLabelSelector, SelectorError } from '../../../../src/api/resources/index.ts';

const KUBECTL = '/usr/bin/kubectl';
const dir = mkdtempSync(join(tmpdir(), 'bramble-selector-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SELECTORS = [
  'app=web', 'app==web', 'app!=web', 'app', '!app', 'app in (a,b),!canary', 'app notin (a)', 'a>1', 'a<1', 'app=', 'a in (b,)',
  'example.com/app=web', ' app = web , tier in ( fe ) ',
  'app=web,', '=web', 'app in web', 'Bad Key=x', 'app=-web', 'version>x', 'a>-1', 'bad_/key=x', 'a.b/c/d=x', '!', '!a=b', 'a in (b', 'a in (b c)',
  'a (x)', 'a=b c', 'a=b=c', `x${'y'.repeat(70)}=a`, 'a=b,,c', 'a,', 'a b', 'a=(', 'a>', '/a=b', 'a=b,!', `a=${'v'.repeat(64)}`,
];

function kubectlParse(selector: string, file: string): string | undefined {
  const r = spawnSync(KUBECTL, ['set', 'selector', '--local', '-f', file, selector, '-o', 'json'],
    { encoding: 'utf8', env: { ...process.env, KUBECONFIG: join(dir, 'none') }, timeout: 60_000 });
  const prefix = `error: couldn't parse the selector string ${JSON.stringify(selector)}: `;
  const line = r.stderr.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : line.slice(prefix.length);
}

test('label selector parse errors read as Kubernetes', { skip: existsSync(KUBECTL) ? false : `${KUBECTL} is not installed` }, () => {
  const file = join(dir, 'service.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } }));
  let errors = 0;
  for (const s of SELECTORS) {
    const want = kubectlParse(s, file);
    let got: string | undefined;
    try {
      parseLabelSelector(s);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      got = e.message;
    }
    assert.equal(got, want, `selector ${JSON.stringify(s)}`);
    if (want !== undefined) errors++;
  }
  assert.ok(errors >= 20, `the list exercises parse errors (${errors})`);
});
