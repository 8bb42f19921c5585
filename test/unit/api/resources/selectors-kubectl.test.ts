// Our label selector parser against Kubernetes' own: `kubectl set selector --local` parses its
// argument with the apimachinery parser the API server uses for `labelSelector`, offline. A parse
// error must read the same from both; what kubectl parses, ours must accept.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseLabelSelector, SelectorError } from '../../../../src/api/resources/index.ts';
import { OfflineKubectl, skipWithoutKubectl } from './fixtures/kubectl.ts';

const kubectl = new OfflineKubectl();
after(() => kubectl.close());

const SELECTORS = [
  'app=web', 'app==web', 'app!=web', 'app', '!app', 'app in (a,b),!canary', 'app notin (a)', 'a>1', 'a<1', 'app=', 'a in (b,)',
  'example.com/app=web', ' app = web , tier in ( fe ) ',
  'app=web,', '=web', 'app in web', 'Bad Key=x', 'app=-web', 'version>x', 'a>-1', 'bad_/key=x', 'a.b/c/d=x', '!', '!a=b', 'a in (b', 'a in (b c)',
  'a (x)', 'a=b c', 'a=b=c', `x${'y'.repeat(70)}=a`, 'a=b,,c', 'a,', 'a b', 'a=(', 'a>', '/a=b', 'a=b,!', `a=${'v'.repeat(64)}`,
];

function kubectlParse(selector: string, file: string): string | undefined {
  const r = kubectl.run(['set', 'selector', '--local', '-f', file, selector, '-o', 'json']);
  const prefix = `error: couldn't parse the selector string ${JSON.stringify(selector)}: `;
  const line = r.stderr.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : line.slice(prefix.length);
}

test('label selector parse errors read as Kubernetes', { skip: skipWithoutKubectl }, () => {
  const file = kubectl.file('service.json', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
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
