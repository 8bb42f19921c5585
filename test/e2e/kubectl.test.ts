// The real kubectl 1.32 against a real `bramble up` (one node, its own data dir): the commands the
// course teaches, unchanged manifests from the Kubernetes documentation, 401/403, and bad input
// sent over real TLS. The node runs its pods on the real Docker engine; images that cannot be pulled
// offline (nginx) are seen on their way to ImagePullBackOff.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProcessGroup, type ManagedProcess, STARTUP_TIMEOUT_MS } from '../lib/processes.ts';
import { CONFIGMAP, NGINX_DEPLOYMENT, PI_JOB, SERVICE } from '../lib/docs-manifests.ts';
import { KUBECTL_PROTOBUF_BODIES } from '../lib/kubectl-protobuf-bodies.ts';
import { KUBECTL, kubectl, kubectlOk } from '../lib/kubectl.ts';
import { bramble } from '../lib/commands.ts';
import { waitFor } from '../lib/wait.ts';
import { SLEEPER_COMMAND, testImages } from '../lib/images.ts';

const ok = kubectlOk;

/** Files under dir whose bytes contain any of the needles. */
function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) hits.push(...filesContaining(path, needles));
    else if (entry.isFile()) {
      const bytes = readFileSync(path);
      if (needles.some((n) => bytes.includes(n))) hits.push(path);
    }
  }
  return hits;
}

describe('real kubectl 1.32 against bramble up', { timeout: 300_000 }, () => {
  const group = new ProcessGroup();
  let node: ManagedProcess;
  let kc = '';
  let apiPort = 0;
  let adminToken = '';

  before(async () => {
    node = await group.spawn('pi1', {
      portNames: ['peer', 'client', 'api'],
      args: ({ ports, dataDir, name }) => ['up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--log-level', 'warn'],
    });
    await node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS);
    apiPort = node.ports['api'] ?? 0;
    kc = join(node.dataDir, 'kubeconfig');
    adminToken = readFileSync(join(node.dataDir, 'auth', 'admin-token'), 'utf8').trim();
  });
  after(() => group.cleanup());

  test('the kubeconfig is private and kubectl get nodes shows this board', async () => {
    assert.equal(statSync(kc).mode & 0o777, 0o600);
    const out = await ok(kc, ['get', 'nodes']);
    assert.match(out, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    assert.match(out, /\npi1\s/);
  });

  test('bramble kubeconfig --data-dir prints the same kubeconfig, and kubectl works with it', async () => {
    const printedRun = await bramble(['kubeconfig', '--data-dir', node.dataDir]);
    assert.equal(printedRun.code, 0, printedRun.stderr);
    const printed = printedRun.stdout;
    assert.equal(printed, readFileSync(kc, 'utf8'));
    const copy = join(node.dataDir, 'printed-kubeconfig');
    writeFileSync(copy, printed, { mode: 0o600 });
    assert.match(await ok(copy, ['get', 'nodes', '-o', 'name']), /^node\/pi1$/m);
    const missingRun = await bramble(['kubeconfig', '--data-dir', join(node.dataDir, 'nope')]);
    assert.notEqual(missingRun.code, 0);
    const missing = missingRun.stderr;
    assert.match(missing, /no kubeconfig in .*nope: start the node first/);
  });

  test('watch: kubectl get -w streams a change made after it started', async () => {
    // One ConfigMap before the watch: kubectl prints its list (header and row) once the list is
    // read, so the test knows the watch began before the change it waits for.
    await ok(kc, ['create', 'configmap', 'before-watch']);
    const child = execFile(KUBECTL, ['--kubeconfig', kc, 'get', 'configmaps', '-w', '--request-timeout=60s'], { timeout: 60_000 });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin?.end();
    try {
      await waitFor('kubectl get -w to print the list it starts from', () => /\nbefore-watch\s/.test(out), 20_000);
      assert.doesNotMatch(out, /watched/);
      await ok(kc, ['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: "1"\n');
      await waitFor('kubectl get -w to print the new ConfigMap', () => /\nwatched\s+1\s/.test(out), 20_000);
    } finally {
      child.kill('SIGTERM');
      await ok(kc, ['delete', 'configmap', 'before-watch']);
    }
  });

  test('get namespaces lists the four a cluster starts with', async () => {
    const out = await ok(kc, ['get', 'ns', '-o', 'name']);
    assert.deepEqual(out.trim().split('\n').sort(), ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
  });

  test('api-resources lists the catalog with short names', async () => {
    const out = await ok(kc, ['api-resources']);
    assert.match(out, /\npods\s+po\s+v1\s+true\s+Pod/);
    assert.match(out, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    assert.match(out, /\nclusterroles\s+rbac.authorization.k8s.io\/v1\s+false\s+ClusterRole/);
  });

  test('run, get pods, get pods -A, get -o yaml, delete pods NAME', async () => {
    assert.match(await ok(kc, ['run', 'web', '--image=nginx:1.27', '--port=80']), /pod\/web created/);
    assert.match(await ok(kc, ['get', 'pods']), /\nweb\s+0\/1\s+(Pending|ContainerCreating|ErrImagePull|ImagePullBackOff)\s+0\s+/);
    assert.match(await ok(kc, ['get', 'pods', '--all-namespaces']), /\ndefault\s+web\s+0\/1\s+(Pending|ContainerCreating|ErrImagePull|ImagePullBackOff)\s/);
    const yaml = await ok(kc, ['get', 'pod', 'web', '-o', 'yaml']);
    assert.match(yaml, /image: nginx:1\.27/);
    assert.match(yaml, /restartPolicy: Always/, 'defaulted by the server');
    assert.match(yaml, /resourceVersion: "\d+"/);
    assert.match(await ok(kc, ['delete', 'pods', 'web']), /pod "web" deleted/);
    const gone = await kubectl(kc, ['get', 'pod', 'web']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "web" not found/);
  });

  test('apply -f twice (the second changes replicas), scale, delete -f', async () => {
    assert.match(await ok(kc, ['apply', '-f', '-'], NGINX_DEPLOYMENT), /deployment.apps\/nginx-deployment created/);
    assert.match(await ok(kc, ['apply', '-f', '-'], NGINX_DEPLOYMENT.replace('replicas: 3', 'replicas: 2')), /deployment.apps\/nginx-deployment configured/);
    assert.equal(await ok(kc, ['get', 'deploy', 'nginx-deployment', '-o', 'jsonpath={.spec.replicas}']), '2');
    assert.match(await ok(kc, ['apply', '-f', '-'], NGINX_DEPLOYMENT.replace('replicas: 3', 'replicas: 2')), /unchanged/);
    assert.match(await ok(kc, ['scale', 'deployment', 'nginx-deployment', '--replicas=5']), /scaled/);
    assert.equal(await ok(kc, ['get', 'deploy', 'nginx-deployment', '-o', 'jsonpath={.spec.replicas}']), '5');
    assert.match(await ok(kc, ['get', 'deploy']), /\nnginx-deployment\s+0\/5\s+/);
    assert.match(await ok(kc, ['delete', '-f', '-'], NGINX_DEPLOYMENT), /deployment.apps "nginx-deployment" deleted/);
    assert.match((await kubectl(kc, ['get', 'deploy'])).stderr, /No resources found in default namespace/);
  });

  test('a ReplicaSet adopts a bare pod kubectl ran (3 wanted: 2 created); `kubectl label pod bare app-` releases it and a replacement comes', async () => {
    const keepRunning = SLEEPER_COMMAND;
    await ok(kc, ['run', 'bare', `--image=${testImages.amd64}`, '--image-pull-policy=Never', '--labels=app=adopt', '--', ...keepRunning]);
    const rs = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'adopt' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'adopt' } }, template: { metadata: { labels: { app: 'adopt' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: testImages.amd64, imagePullPolicy: 'Never', command: keepRunning }] } } },
    });
    assert.match(await ok(kc, ['apply', '-f', '-'], rs), /replicaset.apps\/adopt created/);
    // name and controller of every live pod labelled app=adopt, as kubectl prints them
    const owners = async (): Promise<string[]> =>
      (await ok(kc, ['get', 'pods', '-l', 'app=adopt', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.ownerReferences[0].name}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}']))
        .split('\n')
        .filter((l) => l !== '' && !/ \S/.test(l))
        .map((l) => l.trim())
        .sort();
    // The same answer twice, half a second apart: the controllers have settled, not passed through.
    const settle = (what: string, probe: (lines: string[]) => boolean): Promise<string[]> =>
      waitFor(what, async () => {
        if (!probe(await owners())) return null;
        await new Promise((r) => setTimeout(r, 500));
        const again = await owners();
        return probe(again) ? again : null;
      }, 60_000, 100);
    const adopted = await settle('3 pods, all the ReplicaSet\'s, bare among them', (l) => l.length === 3 && l.every((x) => x.endsWith('=adopt')) && l.includes('bare=adopt'));
    assert.equal(adopted.filter((x) => x.startsWith('adopt-')).length, 2);
    assert.match(await ok(kc, ['label', 'pod', 'bare', 'app-']), /pod\/bare unlabeled/);
    await settle('3 pods of the ReplicaSet, bare not among them', (l) => l.length === 3 && l.every((x) => x.startsWith('adopt-') && x.endsWith('=adopt')));
    assert.equal(await ok(kc, ['get', 'pod', 'bare', '-o', 'jsonpath={.metadata.ownerReferences}']), '', 'released: no ownerReferences left');
    await ok(kc, ['delete', 'rs', 'adopt']);
    await ok(kc, ['delete', 'pod', 'bare']);
  });

  test('unchanged documentation manifests: create -f Service, ConfigMap, Job', async () => {
    const dir = node.dataDir;
    for (const [file, text] of [['service.yaml', SERVICE], ['configmap.yaml', CONFIGMAP], ['job.yaml', PI_JOB]] as const) writeFileSync(join(dir, file), text);
    const out = await ok(kc, ['create', '-f', join(dir, 'service.yaml'), '-f', join(dir, 'configmap.yaml'), '-f', join(dir, 'job.yaml')]);
    assert.match(out, /service\/my-service created/);
    assert.match(out, /configmap\/game-demo created/);
    assert.match(out, /job.batch\/pi created/);
    assert.match(await ok(kc, ['get', 'svc', 'my-service', '-o', 'jsonpath={.spec.type} {.spec.ports[0].protocol}']), /^ClusterIP TCP$/);
    assert.equal(await ok(kc, ['get', 'cm', 'game-demo', '-o', 'jsonpath={.data.player_initial_lives}']), '3');
    assert.match(await ok(kc, ['get', 'job', 'pi', '-o', 'jsonpath={.spec.completions}/{.spec.parallelism}']), /^1\/1$/);
    const again = await kubectl(kc, ['create', '-f', join(dir, 'configmap.yaml')]);
    assert.match(again.stderr, /AlreadyExists.*configmaps "game-demo" already exists/);
  });

  test('an invalid manifest is refused with Kubernetes\' message', async () => {
    const run = await kubectl(kc, ['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
    const unknownField = await kubectl(kc, ['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nbogus: 1\n');
    assert.match(unknownField.stderr, /unknown field "bogus"/);
  });

  test('imperative generators (they send protobuf): create namespace|deployment|configmap|serviceaccount|rolebinding|job|service, expose', async () => {
    assert.match(await ok(kc, ['create', 'namespace', 'gen']), /^namespace\/gen created/);
    assert.equal(await ok(kc, ['get', 'ns', 'gen', '-o', 'jsonpath={.status.phase}']), 'Active');
    const g = ['-n', 'gen'];
    assert.match(await ok(kc, ['create', 'deployment', 'web', '--image=bramble-test/busybox:amd64', '--replicas=2', '--port=80', ...g]), /deployment.apps\/web created/);
    assert.equal(await ok(kc, ['get', 'deploy', 'web', ...g, '-o', 'jsonpath={.spec.replicas} {.spec.selector.matchLabels.app} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort} {.spec.strategy.type}']), '2 web bramble-test/busybox:amd64 80 RollingUpdate');
    assert.match(await ok(kc, ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=level=3', ...g]), /configmap\/settings created/);
    assert.equal(await ok(kc, ['get', 'cm', 'settings', ...g, '-o', 'jsonpath={.data.mode}/{.data.level}']), 'fast/3');
    assert.match(await ok(kc, ['create', 'serviceaccount', 'robot', ...g]), /serviceaccount\/robot created/);
    assert.match(await ok(kc, ['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=gen:robot', '--user=bob', ...g]), /rolebinding.rbac.authorization.k8s.io\/robot-view created/);
    assert.equal(await ok(kc, ['get', 'rolebinding', 'robot-view', ...g, '-o', 'jsonpath={.roleRef.kind}/{.roleRef.name} {.subjects[0].kind}:{.subjects[0].name} {.subjects[1].kind}:{.subjects[1].namespace}/{.subjects[1].name}']), 'ClusterRole/view User:bob ServiceAccount:gen/robot');
    assert.match(await ok(kc, ['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', ...g]), /role.rbac.authorization.k8s.io\/pod-reader created/);
    assert.match(await ok(kc, ['create', 'job', 'once', '--image=bramble-test/busybox:amd64', ...g, '--', 'date']), /job.batch\/once created/);
    assert.equal(await ok(kc, ['get', 'job', 'once', ...g, '-o', 'jsonpath={.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].command[0]} {.spec.backoffLimit}']), 'Never date 6');
    assert.match(await ok(kc, ['create', 'service', 'clusterip', 'api', '--tcp=5678:8080', ...g]), /service\/api created/);
    assert.equal(await ok(kc, ['get', 'svc', 'api', ...g, '-o', 'jsonpath={.spec.type} {.spec.ports[0].port}->{.spec.ports[0].targetPort} {.spec.selector.app}']), 'ClusterIP 5678->8080 api');
    assert.match(await ok(kc, ['expose', 'deployment', 'web', '--port=80', '--target-port=8080', ...g]), /service\/web exposed/);
    assert.equal(await ok(kc, ['get', 'svc', 'web', ...g, '-o', 'jsonpath={.spec.selector.app} {.spec.ports[0].targetPort}']), 'web 8080');
    const again = await kubectl(kc, ['create', 'namespace', 'gen']);
    assert.match(again.stderr, /Error from server \(AlreadyExists\): namespaces "gen" already exists/);
    const invalid = await kubectl(kc, ['create', 'configmap', 'Bad_Name', '--from-literal=a=b', ...g]);
    assert.match(invalid.stderr, /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
  });

  test('a generator for a kind Bramble does not serve (create quota): 404 naming the path', async () => {
    const run = await kubectl(kc, ['create', 'quota', 'q', '--hard=pods=2']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /could not find the requested resource: no such resource or version \(\/api\/v1\/namespaces\/default\/resourcequotas\)/);
  });

  test('create secret generic --from-literal: readable, its plaintext absent from the data dir', async () => {
    const marker = 'generator-secret-4b1d2e';
    assert.match(await ok(kc, ['create', 'secret', 'generic', 'gen-db', `--from-literal=password=${marker}`]), /secret\/gen-db created/);
    assert.equal(Buffer.from(await ok(kc, ['get', 'secret', 'gen-db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), marker);
    assert.deepEqual(filesContaining(node.dataDir, [marker, Buffer.from(marker).toString('base64')]), []);
  });

  test('Secrets: readable through the API, their plaintext absent from the data dir', async () => {
    const marker = 'plaintext-marker-7f3a9c';
    await ok(kc, ['apply', '-f', '-'], `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${marker}\n`);
    assert.equal(Buffer.from(await ok(kc, ['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), marker);
    assert.deepEqual(filesContaining(node.dataDir, [marker, Buffer.from(marker).toString('base64')]), []);
  });

  test('a wrong token -> 401 (kubectl: You must be logged in)', async () => {
    const anon = join(node.dataDir, 'anon-kubeconfig');
    const full = readFileSync(kc, 'utf8');
    const ca = /certificate-authority-data: (\S+)/.exec(full)?.[1] ?? '';
    writeFileSync(anon, `apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: https://127.0.0.1:${apiPort}\n    certificate-authority-data: ${ca}\nusers:\n- name: nobody\n  user: {token: not-a-known-token}\ncontexts:\n- name: b\n  context: {cluster: b, user: nobody}\ncurrent-context: b\n`);
    const run = await kubectl(anon, ['get', 'pods']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /You must be logged in to the server \(Unauthorized\)/);
  });

  test('a student bound to their namespace cannot read another one (403) nor Secrets', async () => {
    await ok(kc, ['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: alice\n');
    await ok(kc, ['apply', '-n', 'alice', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: alice-edit\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: alice\n');
    appendFileSync(join(node.dataDir, 'auth', 'tokens.csv'), 'alice-token-0123456789,alice,1001,students\n');
    const alice = join(node.dataDir, 'alice-kubeconfig');
    const full = readFileSync(kc, 'utf8');
    const ca = /certificate-authority-data: (\S+)/.exec(full)?.[1] ?? '';
    writeFileSync(alice, `apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: https://127.0.0.1:${apiPort}\n    certificate-authority-data: ${ca}\nusers:\n- name: alice\n  user: {token: alice-token-0123456789}\ncontexts:\n- name: b\n  context: {cluster: b, user: alice, namespace: alice}\ncurrent-context: b\n`);
    // The token file is re-read within about a second; RBAC follows the binding by watch.
    const own = await waitFor('alice to list the pods of her namespace', async () => {
      const run = await kubectl(alice, ['get', 'pods']);
      return run.code === 0 ? run : null;
    }, 20_000, 250);
    assert.equal(own.code, 0, own.stderr);
    const other = await kubectl(alice, ['get', 'pods', '-n', 'default']);
    assert.match(other.stderr, /Error from server \(Forbidden\): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/);
    const secrets = await kubectl(alice, ['get', 'secrets', '-n', 'default']);
    assert.match(secrets.stderr, /Forbidden/);
  });

  test('kubectl auth can-i / can-i --list / whoami, for the admin and for the student; --as impersonation', async () => {
    const alice = join(node.dataDir, 'alice-kubeconfig');
    assert.equal((await ok(kc, ['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
    assert.equal((await ok(kc, ['auth', 'can-i', 'delete', 'nodes'])).trim(), 'yes');
    assert.equal((await ok(kc, ['auth', 'can-i', 'get', '/healthz'])).trim(), 'yes');
    assert.equal((await ok(alice, ['auth', 'can-i', 'create', 'deployments.apps'])).trim(), 'yes', 'edit in her own namespace');
    assert.equal((await ok(alice, ['auth', 'can-i', 'get', 'pods', '--subresource=log'])).trim(), 'yes');
    const other = await kubectl(alice, ['auth', 'can-i', 'list', 'pods', '-n', 'default']);
    assert.equal(other.code, 1);
    assert.equal(other.stdout.trim(), 'no');
    assert.equal((await kubectl(alice, ['auth', 'can-i', 'create', 'rolebindings.rbac.authorization.k8s.io'])).stdout.trim(), 'no', 'edit does not grant RBAC');
    const list = await ok(alice, ['auth', 'can-i', '--list']);
    assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
    assert.match(list, /\ndeployments\.apps\s+\[\]\s+\[\]\s+\[get list watch create delete deletecollection patch update\]/);
    assert.match(list, /\n\s+\[\/healthz\]\s+\[\]\s+\[get\]/);
    assert.doesNotMatch(await ok(alice, ['auth', 'can-i', '--list', '-n', 'default']), /deployments\.apps/);
    assert.match(await ok(alice, ['auth', 'whoami']), /Username\s+alice\nUID\s+1001\nGroups\s+\[students system:authenticated\]/);
    assert.equal((await ok(kc, ['auth', 'can-i', 'create', 'pods', '-n', 'alice', '--as=alice'])).trim(), 'yes');
    assert.equal((await kubectl(kc, ['auth', 'can-i', 'create', 'pods', '-n', 'default', '--as=alice'])).stdout.trim(), 'no');
    const escalate = await kubectl(alice, ['get', 'pods', '-n', 'default', '--as=admin']);
    assert.match(escalate.stderr, /users "admin" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope/);
  });

  describe('bad input over HTTPS: a clear 4xx Status each, the node keeps serving', () => {
    function call(method: string, path: string, body: string | Buffer, contentType = 'application/json', headers: Record<string, string> = {}): Promise<{ code: number; json: Record<string, unknown> }> {
      const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(readFileSync(kc, 'utf8'))?.[1] ?? '', 'base64');
      return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: apiPort, method, path, ca, headers: { authorization: `Bearer ${adminToken}`, 'content-type': contentType, ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({ code: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
            } catch (error) {
              reject(error as Error);
            }
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    }
    const cms = '/api/v1/namespaces/default/configmaps';

    test('no credentials at all -> 401 Unauthorized Status', async () => {
      const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(readFileSync(kc, 'utf8'))?.[1] ?? '', 'base64');
      const code = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: apiPort, path: '/api/v1/pods', ca }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(code, 401);
    });
    test('malformed JSON -> 400', async () => {
      const r = await call('POST', cms, '{"apiVersion": "v1", "kind": ');
      assert.equal(r.code, 400);
      assert.equal(r.json['kind'], 'Status');
      assert.match(String(r.json['message']), /not valid JSON/);
    });
    test('malformed YAML -> 400', async () => {
      const r = await call('POST', cms, 'kind: ConfigMap\n  metadata: [\n', 'application/yaml');
      assert.equal(r.code, 400);
      assert.match(String(r.json['message']), /not valid YAML/);
    });
    test('YAML alias bomb -> 400 without expanding it', async () => {
      const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
      const r = await call('POST', cms, `kind: ConfigMap\napiVersion: v1\nmetadata: {name: bomb}\ndata:\n  ${lines.join('\n  ')}\n`, 'application/yaml');
      assert.equal(r.code, 400);
      assert.match(String(r.json['message']), /alias/i);
    });
    test('deeply nested JSON -> 400', async () => {
      const r = await call('POST', cms, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`);
      assert.equal(r.code, 400);
      assert.match(String(r.json['message']), /nests deeper/);
    });
    test('4 MiB body -> 413', async () => {
      const r = await call('POST', cms, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } }));
      assert.equal(r.code, 413);
      assert.equal(r.json['reason'], 'RequestEntityTooLarge');
    });
    test('wrong content type -> 415', async () => {
      const r = await call('POST', cms, 'name=x', 'application/x-www-form-urlencoded');
      assert.equal(r.code, 415);
      assert.equal(r.json['reason'], 'UnsupportedMediaType');
    });
    test('malformed protobuf -> 400; protobuf of a kind we do not decode -> 415', async () => {
      const truncated = Buffer.from(KUBECTL_PROTOBUF_BODIES.configmap.body, 'base64').subarray(0, 40);
      const bad = await call('POST', cms, truncated, 'application/vnd.kubernetes.protobuf');
      assert.equal(bad.code, 400);
      assert.match(String(bad.json['message']), /protobuf body is malformed/);
      const typeMeta = Buffer.concat([Buffer.from([0x0a, 7]), Buffer.from('apps/v1'), Buffer.from([0x12, 9]), Buffer.from('DaemonSet')]);
      const daemonSet = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, typeMeta.length]), typeMeta, Buffer.from([0x12, 0])]);
      const unsupported = await call('POST', '/apis/apps/v1/namespaces/default/daemonsets', daemonSet, 'application/vnd.kubernetes.protobuf');
      assert.equal(unsupported.code, 415);
      assert.match(String(unsupported.json['message']), /send the DaemonSet as YAML or JSON instead/);
      const noMagic = await call('POST', cms, '{"kind":"ConfigMap"}', 'application/vnd.kubernetes.protobuf');
      assert.equal(noMagic.code, 400);
      const patch = await call('PATCH', `${cms}/anything`, Buffer.from('k8s\0'), 'application/vnd.kubernetes.protobuf');
      assert.equal(patch.code, 415);
    });
    test('access reviews: no attributes -> 422, GET -> 405; unsupported impersonation headers -> 400', async () => {
      const ssar = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
      const empty = await call('POST', ssar, JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} }));
      assert.equal(empty.code, 422);
      assert.match(String(empty.json['message']), /exactly one of nonResourceAttributes or resourceAttributes must be specified/);
      assert.equal((await call('GET', ssar, '')).code, 405);
      const extra = await call('GET', cms, '', 'application/json', { 'impersonate-user': 'alice', 'impersonate-extra-scopes': 'x' });
      assert.equal(extra.code, 400);
      assert.match(String(extra.json['message']), /impersonate-extra-scopes header is not supported/);
      const groupOnly = await call('GET', cms, '', 'application/json', { 'impersonate-group': 'students' });
      assert.equal(groupOnly.code, 400);
    });
    test('unknown resource or version -> 404', async () => {
      assert.equal((await call('GET', '/api/v1/namespaces/default/widgets', '')).code, 404);
      assert.equal((await call('GET', '/apis/apps/v7/deployments', '')).code, 404);
    });
    test('invalid name -> 422 with the field', async () => {
      const r = await call('POST', cms, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'UPPER' } }));
      assert.equal(r.code, 422);
      assert.match(String(r.json['message']), /metadata.name: Invalid value: "UPPER"/);
    });
    test('pods/binding sets the node once; a second binding is a 409', async () => {
      // schedulerName other than default-scheduler: Bramble's scheduler leaves this pod to us.
      const pods = '/api/v1/namespaces/default/pods';
      assert.equal((await call('POST', pods, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tobind' }, spec: { schedulerName: 'by-hand', containers: [{ name: 'c', image: 'busybox:1' }] } }))).code, 201);
      const binding = (node: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
      assert.equal((await call('POST', `${pods}/tobind/binding`, binding('pi1'))).code, 201);
      assert.equal(await ok(kc, ['get', 'pod', 'tobind', '-o', 'jsonpath={.spec.nodeName}']), 'pi1');
      const again = await call('POST', `${pods}/tobind/binding`, binding('pi2'));
      assert.equal(again.code, 409);
      await ok(kc, ['delete', 'pod', 'tobind', '--grace-period=0', '--force']);
    });
    test('deletecollection with a label selector deletes only the matching objects', async () => {
      for (const [n, tier] of [['dc1', 'x'], ['dc2', 'x'], ['dc3', 'y']]) {
        assert.equal((await call('POST', cms, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { tier } } }))).code, 201);
      }
      const r = await call('DELETE', `${cms}?labelSelector=tier%3Dx`, '');
      assert.equal(r.code, 200);
      assert.deepEqual((r.json['items'] as { metadata: { name: string } }[]).map((o) => o.metadata.name), ['dc1', 'dc2']);
      assert.match(await ok(kc, ['get', 'cm', '-l', 'tier', '-o', 'name']), /^configmap\/dc3\n$/);
    });
    test('stale resourceVersion -> 409 Conflict', async () => {
      const created = await call('POST', cms, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cas' }, data: { v: '1' } }));
      assert.equal(created.code, 201);
      const meta = created.json['metadata'] as { resourceVersion: string };
      const first = await call('PUT', `${cms}/cas`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cas', resourceVersion: meta.resourceVersion }, data: { v: '2' } }));
      assert.equal(first.code, 200);
      const stale = await call('PUT', `${cms}/cas`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cas', resourceVersion: meta.resourceVersion }, data: { v: '3' } }));
      assert.equal(stale.code, 409);
      assert.equal(stale.json['reason'], 'Conflict');
    });
    test('after all of it the node still answers kubectl', async () => {
      assert.match(await ok(kc, ['get', 'nodes']), /\npi1\s/);
      assert.ok(node.running);
    });
  });
});
