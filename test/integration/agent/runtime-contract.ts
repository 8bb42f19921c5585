import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import type { RunnablePlatform } from '../../../src/agent/runtime/platforms.ts';
import {
  type ContainerConfig,
  ContainerNotFoundError,
  type ContainerStatus,
  ImageError,
  type PodRef,
  type PodSandboxConfig,
  type Runtime,
  type SandboxId,
} from '../../../src/agent/runtime/runtime.ts';
import { waitFor } from '../../lib/wait.ts';

/** What the contract suite needs from one Runtime implementation. */
export interface RuntimeContractSubject {
  /** A new runtime instance for `nodeName` over the same engine as every other instance of this subject. */
  newRuntime(nodeName: string, options?: { runnablePlatforms?: RunnablePlatform[] }): Promise<Runtime>;
  /** Local images: one of the node's own architecture, one of arm64 (emulated on an amd64 host). */
  images: { native: string; arm64: string };
  /** The platforms this subject's node runs without emulation (used to build a node that cannot run arm64). */
  nativeOnly: RunnablePlatform[];
  /**
   * True when containers run real processes. Cases that need a real process (a shell trap, a TCP
   * connection) then run for real; otherwise they assert what the subject models instead, as each
   * case states.
   */
  runsProcesses: boolean;
  /** A hostIP to publish ports on (the real engine: 127.0.0.1 so tests touch only loopback). */
  hostIP: string;
  /** A host port free right now. */
  freePort(): Promise<number>;
  /** Puts a new tiny image of `platform` on the engine under `tag`, as `docker load`; resolves to what removes it (by id). */
  loadImage(tag: string, platform: { os: 'linux'; architecture: 'amd64' | 'arm64'; variant?: 'v8' }): Promise<() => Promise<void>>;
}


async function waitForTermination(runtime: Runtime, id: string): Promise<ContainerStatus & { state: { kind: 'terminated' } }> {
  return waitFor(`container ${id} to terminate`, async () => {
    const status = await runtime.containerStatus(id);
    return status.state.kind === 'terminated' ? (status as ContainerStatus & { state: { kind: 'terminated' } }) : null;
  });
}

async function logsOf(runtime: Runtime, id: string, options: { tailLines?: number; timestamps?: boolean } = {}): Promise<string> {
  return text(await runtime.logs(id, { follow: false, timestamps: options.timestamps ?? false, ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}) }));
}

function container(name: string, image: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name, image, command, env: [], mounts: [], resources: {}, attempt: 0, tty: false, stdin: false, ...extra };
}

async function collect(stream: Readable | null): Promise<string> {
  return stream ? text(stream) : '';
}

/**
 * The Runtime contract: every implementation must pass it. Runs against a fresh set of node
 * names per call, and removes every sandbox (with its containers) it created, by id, even when a
 * case fails.
 */
export function runtimeContract(name: string, makeSubject: () => Promise<RuntimeContractSubject>): void {
  describe(`Runtime contract: ${name}`, () => {
    const run = randomUUID().slice(0, 8);
    const created: Array<{ runtime: Runtime; sandboxId: SandboxId }> = [];
    let subjectPromise: Promise<RuntimeContractSubject> | null = null;
    const subject = () => (subjectPromise ??= makeSubject());
    const node = (suffix: string) => `contract-${run}-${suffix}`;

    async function sandbox(runtime: Runtime, podName: string, extra: Partial<PodSandboxConfig> = {}): Promise<{ id: SandboxId; pod: PodRef }> {
      const pod = { uid: randomUUID(), namespace: 'default', name: podName };
      const id = await runtime.runPodSandbox({ pod, hostname: podName, ports: [], attempt: 0, ...extra });
      created.push({ runtime, sandboxId: id });
      return { id, pod };
    }

    async function started(runtime: Runtime, sandboxId: SandboxId, config: ContainerConfig): Promise<string> {
      await runtime.ensureImage(config.image, 'Never');
      const id = await runtime.createContainer(sandboxId, config);
      await runtime.startContainer(id);
      return id;
    }

    after(async () => {
      for (const { runtime, sandboxId } of created.splice(0)) await runtime.removePodSandbox(sandboxId).catch(() => undefined);
    });

    test('a sandbox and its containers are listed from labels with pod, name and attempt', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('labels'));
      const { id: sandboxId, pod } = await sandbox(runtime, 'web', { attempt: 3 });
      const image = await runtime.ensureImage(s.images.native, 'Never');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['sleep', '3600'], { attempt: 2 }));

      const sandboxes = await runtime.listPodSandboxes({ podUid: pod.uid });
      assert.equal(sandboxes.length, 1);
      assert.deepEqual(sandboxes[0]?.pod, pod);
      assert.equal(sandboxes[0]?.state, 'ready');
      assert.equal(sandboxes[0]?.attempt, 3);
      assert.ok(sandboxes[0]?.podIP, 'a running sandbox has a pod IP');

      const status = await runtime.containerStatus(id);
      assert.deepEqual(status.pod, pod);
      assert.equal(status.name, 'app');
      assert.equal(status.attempt, 2);
      assert.equal(status.sandboxId, sandboxId);
      assert.equal(status.image, s.images.native);
      assert.equal(status.imageId, image.id);
      assert.equal(status.state.kind, 'running');
      assert.deepEqual((await runtime.listContainers({ podUid: pod.uid })).map((c) => c.id), [id]);
    });

    test('exits are reported with their pod uid to this node only; listContainerStates shows every container of the node from one call', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('exits'));
      const other = await s.newRuntime(node('exits-other'));
      const heard: Array<string | null> = [];
      const otherHeard: string[] = [];
      const stop = runtime.watchContainerExits((uid) => heard.push(uid));
      const stopOther = other.watchContainerExits((uid) => void (uid && otherHeard.push(uid)));
      try {
        await waitFor('the stream open, reported as a gap to relist', async () => heard.includes(null));
        const { id: sandboxId, pod } = await sandbox(runtime, 'exits');
        const id = await started(runtime, sandboxId, container('app', s.images.native, ['sleep', '3600']));
        const statesOf = async () => (await runtime.listContainerStates()).filter((c) => c.podUid === pod.uid).map((c) => `${c.id}:${c.state}`).sort();
        assert.deepEqual(await statesOf(), [`${sandboxId}:running`, `${id}:running`].sort());
        assert.deepEqual(heard.filter((uid) => uid !== null), [], 'nothing exited yet');
        await runtime.stopContainer(id, 0);
        await waitFor('the exit reported', async () => heard.includes(pod.uid));
        assert.deepEqual(await statesOf(), [`${sandboxId}:running`, `${id}:exited`].sort());
        assert.deepEqual(await other.listContainerStates(), [], 'another node lists none of them');
        assert.deepEqual(otherHeard, [], 'another node hears none of them');
      } finally {
        stop();
        stopOther();
      }
    });

    test('images: listed with tags and platforms; a load and a removal are reported and seen', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('images'));
      const before = await runtime.listImages();
      const native = before.find((i) => i.repoTags.includes(s.images.native));
      const arm = before.find((i) => i.repoTags.includes(s.images.arm64));
      assert.equal(native?.platform.os, 'linux');
      assert.deepEqual(arm?.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
      assert.deepEqual(arm?.repoDigests, [], 'a loaded image comes from no registry');
      assert.equal(arm?.id, (await runtime.inspectImage(s.images.arm64))?.id);
      let changes = 0;
      const stop = runtime.watchImages(() => changes++);
      try {
        // The engine's event stream may take a moment to open; load after it has.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const tag = `contract-${run}/listed:1`;
        const remove = await s.loadImage(tag, { os: 'linux', architecture: 'arm64', variant: 'v8' });
        let removed = false;
        try {
          await waitFor('a change reported after the load', async () => changes > 0);
          const loaded = (await runtime.listImages()).find((i) => i.repoTags.includes(tag));
          assert.deepEqual(loaded?.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
          const seen = changes;
          await remove();
          removed = true;
          await waitFor('a change reported after the removal', async () => changes > seen);
          assert.equal((await runtime.listImages()).some((i) => i.repoTags.includes(tag)), false);
        } finally {
          if (!removed) await remove();
        }
      } finally {
        stop();
      }
      const quiet = changes;
      const tag = `contract-${run}/unwatched:1`;
      await (await s.loadImage(tag, { os: 'linux', architecture: 'amd64' }))();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(changes, quiet, 'nothing is reported after the watch stopped');
    });

    test('a container that exits is terminated with exit code, reason and times', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('exit'));
      const { id: sandboxId } = await sandbox(runtime, 'job');
      const ok = await started(runtime, sandboxId, container('ok', s.images.native, ['true']));
      const failing = await started(runtime, sandboxId, container('fails', s.images.native, ['false']));
      const done = await waitForTermination(runtime, ok);
      assert.equal(done.state.exitCode, 0);
      assert.equal(done.state.reason, 'Completed');
      assert.ok(done.state.startedAt && done.state.startedAt <= done.state.finishedAt);
      const failed = await waitForTermination(runtime, failing);
      assert.equal(failed.state.exitCode, 1);
      assert.equal(failed.state.reason, 'Error');
    });

    test('two containers of one pod share the network namespace (localhost)', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('localhost'));
      const { id: sandboxId } = await sandbox(runtime, 'pair');
      // Bound to 127.0.0.1: only a container in the same network namespace can reach it.
      const server = await started(
        runtime,
        sandboxId,
        container('server', s.images.native, ['sh', '-c', 'mkdir -p /tmp/www && echo hello-over-localhost > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /tmp/www']),
      );
      const client = await started(runtime, sandboxId, container('client', s.images.native, ['sleep', '3600']));
      const [serverStatus, clientStatus] = await Promise.all([runtime.containerStatus(server), runtime.containerStatus(client)]);
      assert.equal(serverStatus.sandboxId, sandboxId);
      assert.equal(clientStatus.sandboxId, sandboxId);
      if (!s.runsProcesses) {
        // Modelled: both containers belong to one sandbox, which has the pod's single IP.
        assert.equal((await runtime.listPodSandboxes()).filter((p) => p.id === sandboxId && p.podIP).length, 1);
        return;
      }
      const body = await waitFor('the server to answer on localhost', async () => {
        const session = await runtime.exec(client, { command: ['wget', '-qO-', 'http://127.0.0.1:8080/index.html'], stdin: false, tty: false });
        const [stdout] = await Promise.all([collect(session.stdout), collect(session.stderr)]);
        return (await session.exitCode()) === 0 ? stdout : null;
      });
      assert.equal(body.trim(), 'hello-over-localhost');
    });

    test('an arm64 image runs (emulated on other hosts) and reports aarch64', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('arm64'));
      const { id: sandboxId } = await sandbox(runtime, 'arm');
      const image = await runtime.ensureImage(s.images.arm64, 'Never');
      assert.equal(image.platform.architecture, 'arm64');
      const id = await started(runtime, sandboxId, container('uname', s.images.arm64, ['uname', '-m']));
      assert.equal((await waitForTermination(runtime, id)).state.exitCode, 0);
      assert.equal((await logsOf(runtime, id)).trim(), 'aarch64');
    });

    test('an image of an architecture the node cannot run gives ImageArchitectureMismatch, not an exec format error', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('noemu'), { runnablePlatforms: s.nativeOnly });
      await assert.rejects(runtime.ensureImage(s.images.arm64, 'Never'), (error: unknown) => {
        assert.ok(error instanceof ImageError);
        assert.equal(error.reason, 'ImageArchitectureMismatch');
        assert.match(error.message, /is linux\/arm64.*load an image built for/);
        return true;
      });
      const { id: sandboxId } = await sandbox(runtime, 'wrong-arch');
      await assert.rejects(runtime.createContainer(sandboxId, container('app', s.images.arm64, ['uname', '-m'])), /ImageArchitectureMismatch|is linux\/arm64/);
      assert.deepEqual(await runtime.listContainers({ sandboxId }), [], 'no container is left behind');
      assert.ok(await runtime.ensureImage(s.images.native, 'Never'), 'the native image is still fine');
    });

    test('a missing image with pull policy Never gives ErrImageNeverPull with what to do', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('never'));
      await assert.rejects(runtime.ensureImage(`bramble-test/absent-${run}:1`, 'Never'), (error: unknown) => {
        assert.ok(error instanceof ImageError);
        assert.equal(error.reason, 'ErrImageNeverPull');
        assert.match(error.message, /docker load/);
        return true;
      });
      assert.equal(await runtime.inspectImage(`bramble-test/absent-${run}:1`), null);
    });

    test('stop: a process that ignores SIGTERM is killed after the grace period (137)', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('kill'));
      const { id: sandboxId } = await sandbox(runtime, 'stubborn');
      // busybox sleep as PID 1 has no SIGTERM handler, and PID 1 ignores unhandled signals.
      const id = await started(runtime, sandboxId, container('sleeper', s.images.native, ['sleep', '3600']));
      await waitFor('running', async () => (await runtime.containerStatus(id)).state.kind === 'running');
      await runtime.stopContainer(id, 1);
      const stopped = await runtime.containerStatus(id);
      assert.equal(stopped.state.kind, 'terminated');
      assert.equal(stopped.state.kind === 'terminated' && stopped.state.exitCode, 137);
    });

    test('stop: a process that handles SIGTERM finishes its cleanup within the grace period', async (t) => {
      const s = await subject();
      if (!s.runsProcesses) {
        t.skip('the subject runs no shell, so there is no trap to honour; the 137 case above is its model of stopping');
        return;
      }
      const runtime = await s.newRuntime(node('grace'));
      const { id: sandboxId } = await sandbox(runtime, 'polite');
      // The cleanup takes about a second; the grace period is twenty.
      const script = "trap 'sleep 1; echo cleaned-up; exit 0' TERM; echo ready; while :; do sleep 1 & wait $!; done";
      const id = await started(runtime, sandboxId, container('polite', s.images.native, ['sh', '-c', script]));
      await waitFor('the trap to be installed', async () => (await logsOf(runtime, id)).includes('ready'));
      await runtime.stopContainer(id, 20);
      const stopped = await runtime.containerStatus(id);
      assert.equal(stopped.state.kind === 'terminated' && stopped.state.exitCode, 0, 'exited by itself, not SIGKILLed');
      assert.match(await logsOf(runtime, id), /cleaned-up/);
    });

    test('logs: all, tail, timestamps, and the previous attempt kept', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('logs'));
      const { id: sandboxId, pod } = await sandbox(runtime, 'talker');
      const first = await started(runtime, sandboxId, container('app', s.images.native, ['echo', '-e', 'one\\ntwo\\nthree']));
      await waitForTermination(runtime, first);
      assert.equal(await logsOf(runtime, first), 'one\ntwo\nthree\n');
      assert.equal(await logsOf(runtime, first, { tailLines: 1 }), 'three\n');
      const stamped = (await logsOf(runtime, first, { timestamps: true })).trim().split('\n');
      assert.equal(stamped.length, 3);
      for (const line of stamped) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (one|two|three)$/);

      const second = await started(runtime, sandboxId, container('app', s.images.native, ['echo', 'second attempt'], { attempt: 1 }));
      await waitForTermination(runtime, second);
      const attempts = (await runtime.listContainers({ podUid: pod.uid })).filter((c) => c.name === 'app').sort((a, b) => a.attempt - b.attempt);
      assert.deepEqual(attempts.map((c) => c.attempt), [0, 1]);
      assert.equal(await logsOf(runtime, attempts[0]?.id ?? ''), 'one\ntwo\nthree\n', 'the previous attempt keeps its logs');
      assert.equal(await logsOf(runtime, attempts[1]?.id ?? ''), 'second attempt\n');
    });

    test('exec into a container that is not running is refused with the reason', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('exec-stopped'));
      const { id: sandboxId } = await sandbox(runtime, 'finished');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['true']));
      await waitForTermination(runtime, id);
      await assert.rejects(runtime.exec(id, { command: ['echo', 'hi'], stdin: false, tty: false }), /is not running \(.*\): exec needs a running container/);
    });

    test('logs: follow streams new lines and ends when the container stops', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('follow'));
      const { id: sandboxId } = await sandbox(runtime, 'follower');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['echo', 'followed line']));
      const followed = await text(await runtime.logs(id, { follow: true, timestamps: false }));
      assert.equal(followed, 'followed line\n');
    });

    test('exec: stdout, stderr, exit code, stdin round trip and a TTY with resize', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('exec'));
      const { id: sandboxId } = await sandbox(runtime, 'shell');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['sleep', '3600']));
      await waitFor('running', async () => (await runtime.containerStatus(id)).state.kind === 'running');

      const echo = await runtime.exec(id, { command: ['echo', 'from exec'], stdin: false, tty: false });
      const [out] = await Promise.all([collect(echo.stdout), collect(echo.stderr)]);
      assert.equal(out, 'from exec\n');
      assert.equal(await echo.exitCode(), 0);

      const cat = await runtime.exec(id, { command: ['cat'], stdin: true, tty: false });
      assert.ok(cat.stdin);
      cat.stdin.end('round trip through stdin\n');
      const [catOut] = await Promise.all([collect(cat.stdout), collect(cat.stderr)]);
      assert.equal(catOut, 'round trip through stdin\n');
      assert.equal(await cat.exitCode(), 0);

      const missing = await runtime.exec(id, { command: ['ls', '/no/such/path'], stdin: false, tty: false });
      const [missingOut, missingErr] = await Promise.all([collect(missing.stdout), collect(missing.stderr)]);
      assert.equal(missingOut, '');
      assert.match(missingErr, /no\/such\/path/);
      assert.notEqual(await missing.exitCode(), 0);

      // The shell reads the size only after its input line, which is written after the resize.
      const tty = await runtime.exec(id, { command: ['sh', '-c', 'read line; stty size; echo "got $line"'], stdin: true, tty: true });
      assert.equal(tty.stderr, null, 'a TTY merges stderr into stdout');
      await tty.resize({ columns: 100, rows: 40 });
      if (!s.runsProcesses) {
        // Modelled: a TTY session has one output stream and accepts a resize; no shell runs.
        assert.equal(await tty.exitCode(), 127);
        return;
      }
      const ttyOut = collect(tty.stdout);
      tty.stdin?.write('go\r');
      assert.equal(await ttyOut, 'go\r\n40 100\r\ngot go\r\n', 'the terminal echoes input and uses CRLF');
      assert.equal(await tty.exitCode(), 0);
    });

    test('exec: a TTY with an initial size has that size without any resize from the caller', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('exec-size'));
      const { id: sandboxId } = await sandbox(runtime, 'sized');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['sleep', '3600']));
      await waitFor('running', async () => (await runtime.containerStatus(id)).state.kind === 'running');
      // An engine with ConsoleSize (Docker API 1.42+) has the size before the process runs; Docker
      // 20.10 gets it applied by the runtime just after the start (the process polls, bounded).
      // Without the initial size nothing ever sizes this terminal: the caller sends no resize.
      // (busybox `stty size` on an unsized terminal prints its error to stderr and exits 0.)
      const command = s.runsProcesses
        ? ['sh', '-c', 'i=0; while :; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i+1)); [ $i -ge 50 ] && break; sleep 0.1; done; echo "size $s"']
        : ['stty', 'size'];
      const sized = await runtime.exec(id, { command, stdin: false, tty: true, initialSize: { columns: 132, rows: 43 } });
      assert.match(await collect(sized.stdout), /43 132/);
      assert.equal(await sized.exitCode(), 0);
      const unsized = await runtime.exec(id, { command: ['stty', 'size'], stdin: false, tty: false, initialSize: { columns: 132, rows: 43 } });
      const [unsizedOut] = await Promise.all([collect(unsized.stdout), collect(unsized.stderr)]);
      assert.doesNotMatch(unsizedOut, /43 132/, 'no terminal, no size');
      assert.notEqual(await unsized.exitCode(), 0);
    });

    test('stats: a running container reports CPU time and memory', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('stats'));
      const { id: sandboxId } = await sandbox(runtime, 'measured');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['sleep', '3600']));
      await waitFor('running', async () => (await runtime.containerStatus(id)).state.kind === 'running');
      const stats = await runtime.containerStats(id);
      assert.ok(stats.memoryWorkingSetBytes > 0, `memory ${stats.memoryWorkingSetBytes}`);
      assert.ok(stats.cpuUsageNanoseconds >= 0);
      assert.ok(stats.timestamp instanceof Date && !Number.isNaN(stats.timestamp.getTime()));
    });

    test('a new runtime instance rebuilds its view from the engine and keeps containers running', async () => {
      const s = await subject();
      const nodeName = node('restart');
      const before = await s.newRuntime(nodeName);
      const { id: sandboxId, pod } = await sandbox(before, 'survivor');
      const id = await started(before, sandboxId, container('app', s.images.native, ['sleep', '3600']));
      const startedAt = await waitFor('running', async () => {
        const state = (await before.containerStatus(id)).state;
        return state.kind === 'running' ? state.startedAt : null;
      });

      const afterRestart = await s.newRuntime(nodeName);
      const sandboxes = await afterRestart.listPodSandboxes();
      assert.deepEqual(sandboxes.map((p) => [p.id, p.pod]), [[sandboxId, pod]]);
      const containers = await afterRestart.listContainers();
      assert.deepEqual(containers.map((c) => [c.id, c.name, c.sandboxId]), [[id, 'app', sandboxId]]);
      const state = containers[0]?.state;
      assert.equal(state?.kind, 'running');
      assert.equal(state?.kind === 'running' && state.startedAt.getTime(), startedAt.getTime(), 'not restarted');
      await afterRestart.removePodSandbox(sandboxId);
      assert.deepEqual(await before.listContainers(), [], 'removing the sandbox removed its containers');
    });

    test('two runtimes with different node names on one engine do not see or touch each other', async () => {
      const s = await subject();
      const a = await s.newRuntime(node('a'));
      const b = await s.newRuntime(node('b'));
      const { id: sandboxA } = await sandbox(a, 'only-on-a');
      const containerA = await started(a, sandboxA, container('app', s.images.native, ['sleep', '3600']));
      assert.deepEqual(await b.listPodSandboxes(), []);
      assert.deepEqual(await b.listContainers(), []);
      await assert.rejects(b.containerStatus(containerA), ContainerNotFoundError);
      await assert.rejects(b.stopContainer(containerA, 0), ContainerNotFoundError);
      await b.removeContainer(containerA);
      await b.removePodSandbox(sandboxA);
      assert.equal((await a.containerStatus(containerA)).state.kind, 'running', 'b could not stop or remove a container of a');
      assert.equal((await a.listPodSandboxes()).length, 1);
    });

    test('a hostPort already in use on the node gives a clear error and leaves nothing behind', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('ports'));
      const hostPort = await s.freePort();
      const ports = [{ containerPort: 8080, hostPort, hostIP: s.hostIP, protocol: 'TCP' as const }];
      await sandbox(runtime, 'first', { ports });
      const before = (await runtime.listPodSandboxes()).length;
      await assert.rejects(
        runtime.runPodSandbox({ pod: { uid: randomUUID(), namespace: 'default', name: 'second' }, hostname: 'second', ports, attempt: 0 }),
        new RegExp(`hostPort ${hostPort}/TCP is already in use on node`),
      );
      assert.equal((await runtime.listPodSandboxes()).length, before);
    });

    test('stopping a sandbox stops its containers; removing it removes them', async () => {
      const s = await subject();
      const runtime = await s.newRuntime(node('teardown'));
      const { id: sandboxId } = await sandbox(runtime, 'gone');
      const id = await started(runtime, sandboxId, container('app', s.images.native, ['sleep', '3600']));
      await runtime.stopPodSandbox(sandboxId, 0);
      assert.equal((await runtime.containerStatus(id)).state.kind, 'terminated');
      assert.equal((await runtime.listPodSandboxes())[0]?.state, 'notready');
      await runtime.removePodSandbox(sandboxId);
      assert.deepEqual(await runtime.listPodSandboxes(), []);
      await assert.rejects(runtime.containerStatus(id), ContainerNotFoundError);
      await runtime.removePodSandbox(sandboxId); // removing what is gone is not an error
    });
  });
}
