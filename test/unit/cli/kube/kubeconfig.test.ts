import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { kubeconfigPath, loadConnection } from '../../../../src/cli/kube/kubeconfig.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-kubeconfig-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('kubeconfig loading (kubectl rules)', () => {
  test('which file: --kubeconfig, else the first of $KUBECONFIG, else ~/.kube/config', () => {
    assert.equal(kubeconfigPath('/x/flag', { KUBECONFIG: '/a:/b' }), '/x/flag');
    assert.equal(kubeconfigPath(undefined, { KUBECONFIG: ':/a:/b' }), '/a');
    assert.equal(kubeconfigPath(undefined, {}), join(homedir(), '.kube', 'config'));
  });

  test('the current context: embedded CA and client certificate, namespace', () => {
    const path = write(
      'embedded.yaml',
      `apiVersion: v1
kind: Config
current-context: bramble
clusters:
- name: bramble
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA PEM')}}
users:
- name: admin
  user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}
contexts:
- name: bramble
  context: {cluster: bramble, user: admin, namespace: class-a}
`,
    );
    const c = loadConnection({ kubeconfig: path }, {});
    assert.equal(c.server, 'https://127.0.0.1:6443');
    assert.equal(c.ca?.toString(), 'CA PEM');
    assert.equal(c.cert?.toString(), 'CERT');
    assert.equal(c.key?.toString(), 'KEY');
    assert.equal(c.namespace, 'class-a');
    assert.equal(c.token, undefined);
    // As kubectl: --server changes only where to connect; the CA and the client certificate stay.
    const elsewhere = loadConnection({ kubeconfig: path, server: 'https://10.0.0.2:6443' }, {});
    assert.deepEqual([elsewhere.server, elsewhere.ca?.toString(), elsewhere.cert?.toString(), elsewhere.key?.toString()], ['https://10.0.0.2:6443', 'CA PEM', 'CERT', 'KEY']);
    const asToken = loadConnection({ kubeconfig: path, token: 'student' }, {});
    assert.deepEqual([asToken.token, asToken.cert, asToken.key, asToken.ca?.toString()], ['student', undefined, undefined, 'CA PEM'], '--token drops the client certificate, keeps the CA');
  });

  test('files relative to the kubeconfig, a token, --context, and flag overrides', () => {
    write('ca.crt', 'CA FROM FILE');
    write('student.token', 'tok-from-file\n');
    const path = write(
      'files.yaml',
      `apiVersion: v1
kind: Config
current-context: a
clusters:
- {name: c1, cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt}}
users:
- {name: u1, user: {token: inline-token}}
- {name: u2, user: {tokenFile: student.token}}
contexts:
- {name: a, context: {cluster: c1, user: u1}}
- {name: b, context: {cluster: c1, user: u2}}
`,
    );
    const a = loadConnection({ kubeconfig: path }, {});
    assert.deepEqual([a.ca?.toString(), a.token, a.namespace], ['CA FROM FILE', 'inline-token', 'default']);
    assert.equal(loadConnection({ kubeconfig: path, context: 'b' }, {}).token, 'tok-from-file');
    const o = loadConnection({ kubeconfig: path, server: 'https://127.0.0.1:7443', token: 'flag-token' }, {});
    assert.deepEqual([o.server, o.token], ['https://127.0.0.1:7443', 'flag-token']);
  });

  test('mistakes say what to do', () => {
    assert.throws(() => loadConnection({ kubeconfig: join(tmp, 'missing') }, {}), /no kubeconfig at .*missing: write one with `bramble kubeconfig --data-dir DIR/);
    assert.throws(() => loadConnection({ kubeconfig: write('bad.yaml', 'a: [\n') }, {}), /is not valid YAML/);
    assert.throws(() => loadConnection({ kubeconfig: write('noctx.yaml', 'apiVersion: v1\nkind: Config\n') }, {}), /has no current-context: pass --context NAME/);
    assert.throws(() => loadConnection({ kubeconfig: write('ctx.yaml', 'current-context: x\ncontexts: []\n') }, {}), /context "x" is not in/);
    const halfCert = write('half.yaml', `current-context: a\nclusters: [{name: c, cluster: {server: "https://h:1"}}]\nusers: [{name: u, user: {client-certificate-data: ${b64('C')}}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n`);
    assert.throws(() => loadConnection({ kubeconfig: halfCert }, {}), /client certificate without its key/);
    const missingCa = write('noca.yaml', 'current-context: a\nclusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: nope.crt}}]\ncontexts: [{name: a, context: {cluster: c}}]\n');
    assert.throws(() => loadConnection({ kubeconfig: missingCa }, {}), /refers to .*nope\.crt, which cannot be read/);
    assert.equal(loadConnection({ kubeconfig: join(tmp, 'missing'), server: 'https://127.0.0.1:6443' }, {}).server, 'https://127.0.0.1:6443', '--server alone is enough');
  });
});
