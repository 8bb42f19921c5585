// The bramble kube verbs against a real `bramble up` (one node, its own data dir, real HTTPS with
// the admin kubeconfig it writes): the course's commands with bramble instead of kubectl, apply
// twice, scale, delete, -o formats, a student token that RBAC confines to its namespace, and exec
// and logs in a real busybox pod.
// The node's agent runs pods on the real Docker engine; nginx cannot be pulled offline, so `web`
// is seen on its way to ImagePullBackOff (whichever step it has reached).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { bramble, type CommandRun } from '../../lib/commands.ts';
import { testImages } from '../../lib/images.ts';
import { ProcessGroup, type ManagedProcess, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';

const DEPLOYMENT = (replicas: number, extraLabel: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
${extraLabel ? '    tier: front\n' : ''}spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
`;

describe('bramble kube verbs against bramble up', { timeout: 300_000 }, () => {
  const group = new ProcessGroup();
  let node: ManagedProcess;
  let kubeconfig = '';

  /** The CLI as a user with this node's kubeconfig in KUBECONFIG and no home directory. */
  function cli(args: string[], extraEnv: Record<string, string> = {}, input = ''): Promise<CommandRun> {
    return bramble(args, { env: { HOME: '/nonexistent', KUBECONFIG: kubeconfig, ...extraEnv }, input });
  }
  async function ok(args: string[]): Promise<string> {
    const r = await cli(args);
    assert.equal(r.code, 0, `bramble ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    node = await group.spawn('pi1', {
      portNames: ['peer', 'client', 'api'],
      args: ({ ports, dataDir, name }) => ['up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--log-level', 'warn'],
    });
    await node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS);
    kubeconfig = join(node.dataDir, 'kubeconfig');
  });
  after(() => group.cleanup());

  test('cluster-info, api-resources, get nodes and namespaces', async () => {
    assert.match(await ok(['cluster-info']), new RegExp(`^Kubernetes control plane is running at https://127\\.0\\.0\\.1:${node.ports['api']}`));
    const resources = await ok(['api-resources']);
    assert.match(resources, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n/);
    assert.match(resources, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
    assert.match(await ok(['get', 'nodes']), /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\npi1\s/);
    assert.deepEqual((await ok(['get', 'ns', '-o', 'name'])).trim().split('\n').sort(), ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
  });

  test('run, get (columns, wide, -A, -o yaml), describe, delete', async () => {
    assert.equal(await ok(['run', 'web', '--image', 'nginx:1.27', '--port', '80']), 'pod/web created\n');
    assert.match(await ok(['get', 'pods']), /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+0\/1\s+(Pending|ContainerCreating|ErrImagePull|ImagePullBackOff)\s+0\s+\S+\n$/);
    assert.match(await ok(['get', 'pods', '-o', 'wide']), /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    assert.match(await ok(['get', 'pods', '-A']), /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\ndefault\s+web\s/);
    const pod = parse(await ok(['get', 'pod', 'web', '-o', 'yaml'])) as { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } };
    assert.deepEqual(pod.metadata.labels, { run: 'web' });
    assert.equal(pod.spec.containers[0]?.image, 'nginx:1.27');
    assert.match(await ok(['describe', 'pod', 'web']), /^Name:\s+web\nNamespace:\s+default\nLabels:\s+run=web\n[\s\S]*Image:\s+nginx:1\.27/);
    assert.equal(await ok(['delete', 'pod', 'web']), 'pod "web" deleted\n');
    const again = await cli(['delete', 'pod', 'web']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Error from server (NotFound): pods "web" not found\n');
    const empty = await cli(['get', 'pods']);
    assert.deepEqual([empty.code, empty.stdout, empty.stderr], [0, '', 'No resources found in default namespace.\n']);
  });

  test('apply twice (created, unchanged, configured with a label removed), scale, delete -f', async () => {
    const file = join(node.dataDir, '..', 'deployment.yaml');
    writeFileSync(file, DEPLOYMENT(3, true));
    assert.equal(await ok(['apply', '-f', file]), 'deployment.apps/nginx-deployment created\n');
    assert.equal(await ok(['apply', '-f', file]), 'deployment.apps/nginx-deployment unchanged\n');
    writeFileSync(file, DEPLOYMENT(2, false));
    assert.equal(await ok(['apply', '-f', file]), 'deployment.apps/nginx-deployment configured\n');
    const applied = JSON.parse(await ok(['get', 'deploy', 'nginx-deployment', '-o', 'json'])) as { metadata: { labels: Record<string, string> }; spec: { replicas: number } };
    assert.deepEqual(applied.metadata.labels, { app: 'nginx' }, 'the label dropped from the manifest is gone');
    assert.equal(applied.spec.replicas, 2);

    assert.equal(await ok(['scale', 'deploy/nginx-deployment', '--replicas', '4']), 'deployment.apps/nginx-deployment scaled\n');
    assert.equal((JSON.parse(await ok(['get', 'deployments.apps', 'nginx-deployment', '-o', 'json'])) as { spec: { replicas: number } }).spec.replicas, 4);
    assert.match(await ok(['get', 'deploy']), /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nnginx-deployment\s/);
    assert.equal(await ok(['delete', '-f', file]), 'deployment.apps "nginx-deployment" deleted\n');
  });

  test('a student token: RBAC confines it to its namespace, with Kubernetes\' 403 wording', async () => {
    await ok(['token', 'create', 'student1', '--data-dir', node.dataDir]).then((t) => assert.match(t, /^\S{43}\n$/));
    const token = (await ok(['token', 'create', 'student2', '--data-dir', node.dataDir])).trim();
    const ns = join(node.dataDir, '..', 'student.yaml');
    writeFileSync(
      ns,
      `apiVersion: v1
kind: Namespace
metadata:
  name: student2
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: student2-edit
  namespace: student2
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: student2
`,
    );
    assert.equal(await ok(['create', '-f', ns]), 'namespace/student2 created\nrolebinding.rbac.authorization.k8s.io/student2-edit created\n');
    // The token file is re-read within a second by the running node.
    let own: CommandRun = { code: 1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 20 && own.code !== 0; attempt++) {
      own = await cli(['get', 'pods', '-n', 'student2', '--token', token]);
      if (own.code !== 0) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stderr, 'No resources found in student2 namespace.\n');
    const other = await cli(['get', 'pods', '-n', 'default', '--token', token]);
    assert.equal(other.code, 1);
    assert.equal(other.stderr, 'Error from server (Forbidden): pods is forbidden: User "student2" cannot list resource "pods" in API group "" in the namespace "default"\n');
    const bad = await cli(['get', 'pods', '--token', 'not-a-token']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'error: You must be logged in to the server (Unauthorized)\n');
  });

  test('exec and logs in a real pod (agent on Docker): output, stderr, exit codes, stdin, tty, clean errors', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shell' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo started; sleep 0.3; echo warn >&2; sleep 3600'] }] } };
    const file = join(node.dataDir, 'shell.json');
    writeFileSync(file, JSON.stringify(pod));
    await ok(['create', '-f', file]);
    let phase = '';
    for (let attempt = 0; attempt < 120 && phase !== 'Running'; attempt++) {
      phase = (JSON.parse(await ok(['get', 'pod', 'shell', '-o', 'json'])) as { status?: { phase?: string } }).status?.phase ?? '';
      if (phase !== 'Running') await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(phase, 'Running');
    const both = await cli(['exec', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2']);
    assert.deepEqual(both, { code: 0, stdout: 'out\n', stderr: 'err\n' });
    const failed = await cli(['exec', 'pod/shell', '-c', 'main', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3, 'the exit code is the command\'s');
    const piped = await cli(['exec', '-i', 'shell', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], {}, 'hello from stdin\n');
    assert.equal(piped.stdout, 'HELLO FROM STDIN\ndone\n');
    const tty = await cli(['exec', '-t', 'shell', '--', 'sh', '-c', 'test -t 1 && echo tty; echo err >&2']);
    assert.equal(tty.code, 0, tty.stderr);
    assert.equal(tty.stdout.replace(/\r/g, ''), 'tty\nerr\n', 'a TTY merges stderr into stdout');
    const wrong = await cli(['exec', 'shell', '-c', 'nope', '--', 'true']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^Error from server \(BadRequest\): .*nope/);
    const missing = await cli(['exec', 'ghost', '--', 'true']);
    assert.equal(missing.stderr, 'Error from server (NotFound): pods "ghost" not found\n');
    assert.deepEqual((await ok(['logs', 'shell'])).split('\n').filter(Boolean).sort(), ['started', 'warn']);
    assert.equal(await ok(['logs', 'shell', '--tail', '1']), 'warn\n');
    await ok(['delete', 'pod', 'shell']);
  });
});
