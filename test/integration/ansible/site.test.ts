// ansible/ for real (issue 20): site.yml against three Debian 12 containers with systemd as PID 1
// (the boards), reached with the community.docker.docker connection as k3s-ansible tests itself.
// The roles install the x64 single executable, the bundle, /etc/bramble/env and the shared unit;
// the three nodes form a cluster (BRAMBLE_INITIAL_CLUSTER) that real kubectl sees Ready. A second
// run changes nothing; reset.yml removes what site.yml installed. The agents use this machine's
// Docker engine through its socket (no Docker in Docker, so the docker role is skipped) with
// POD_NETWORK=off; the test starts no pods.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bramble, runCommand, type CommandRun } from '../../lib/commands.ts';
import { docker } from '../../lib/docker.ts';
import { kubectlOk } from '../../lib/kubectl.ts';
import { freshExecutable, projectDir } from '../../lib/single-executable.ts';
import { waitFor } from '../../lib/wait.ts';

/** Made by scripts/test-host.sh (debootstrap once, cached in /var/cache/bramble-test); same tag there. */
const IMAGE = 'bramble-test/debian12-systemd:1';
// Unique node names: the agents label their pods' containers with them on the shared engine.
const BOARDS = ['ansible-1', 'ansible-2', 'ansible-3'];
const ANSIBLE_DIR = join(projectDir, 'ansible');
/**
 * systemd as PID 1 in a container: it mounts file systems (SYS_ADMIN), writes cgroups (the host's
 * hierarchy, read-write) and /proc/sys (the role's sysctls: NET_ADMIN, unmasked system paths), with
 * /run and /run/lock on tmpfs. Not --privileged: a test host that lacks a capability itself (a
 * container or sandbox) cannot hand all of them out. The agents drive this machine's engine through
 * its socket: a Node is Ready only with a runtime (RUNTIME=none makes it Ready=False, NoContainerRuntime).
 */
const BOARD_OPTIONS = [
  ...['--cap-add', 'SYS_ADMIN', '--cap-add', 'NET_ADMIN'],
  ...['--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined'],
  ...['--cgroupns=host', '--volume', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/run/lock'],
  ...['--volume', '/var/run/docker.sock:/var/run/docker.sock'],
];
/** What site.yml puts on a board and reset.yml must take away again. */
const INSTALLED = ['/usr/local/bin/bramble', '/etc/systemd/system/bramble.service', '/etc/bramble', '/var/lib/bramble', '/var/cache/bramble', '/etc/sysctl.d/90-bramble.conf'];
/** An ansible-playbook run: generous, never a speed assertion (three 100 MB copies on a busy machine). */
const PLAYBOOK_TIMEOUT_MS = 600_000;

const work = mkdtempSync(join(tmpdir(), 'bramble-ansible-'));
const inventory = join(work, 'inventory.yml');
const bundleDir = join(work, 'cluster');
const containers = new Map<string, { id: string; address: string }>();

interface RecapLine {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

/** The PLAY RECAP of an ansible-playbook run, per host. */
function recap(run: CommandRun): Map<string, RecapLine> {
  const hosts = new Map<string, RecapLine>();
  const at = run.stdout.lastIndexOf('PLAY RECAP');
  for (const line of run.stdout.slice(Math.max(at, 0)).split('\n')) {
    const match = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line);
    if (match) hosts.set(match[1]!, { ok: Number(match[2]), changed: Number(match[3]), unreachable: Number(match[4]), failed: Number(match[5]) });
  }
  return hosts;
}

function playbook(name: string): Promise<CommandRun> {
  return runCommand('ansible-playbook', ['-i', inventory, join(ANSIBLE_DIR, name)], {
    cwd: ANSIBLE_DIR,
    timeoutMs: PLAYBOOK_TIMEOUT_MS,
    // Pipelining: each module goes through docker exec's stdin instead of a copied file.
    env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_PIPELINING: '1', ANSIBLE_LOCAL_TEMP: join(work, 'ansible-tmp'), ANSIBLE_RETRY_FILES_ENABLED: 'false' },
  });
}

/** Runs the playbook and checks every board ran it without failure; returns the recap. */
async function playbookOk(name: string): Promise<Map<string, RecapLine>> {
  const run = await playbook(name);
  const hosts = recap(run);
  const failed = run.code !== 0 || BOARDS.some((board) => hosts.get(board)?.failed !== 0 || hosts.get(board)?.unreachable !== 0);
  assert.ok(!failed, `ansible-playbook ${name} failed (exit ${run.code}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}`);
  return hosts;
}

/** A shell command in a board's container; stdout, trimmed. */
async function onBoard(board: string, script: string): Promise<string> {
  return (await docker(['exec', containers.get(board)!.id, 'sh', '-c', script])).trim();
}

/** The paths of INSTALLED that exist on the board. */
function presentOn(board: string): Promise<string> {
  return onBoard(board, `for p in ${INSTALLED.join(' ')}; do if [ -e "$p" ]; then echo "$p"; fi; done`);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('ansible: site.yml, a second run and reset.yml on three systemd containers', { timeout: 1_500_000 }, () => {
  let executable = '';

  before(async () => {
    const images = await docker(['image', 'ls', '--quiet', IMAGE]);
    assert.ok(images.trim() !== '', `the image ${IMAGE} is missing: run bash scripts/test-host.sh (it builds it once from Debian's archive)`);
    executable = await freshExecutable('linux-x64');
    for (const board of BOARDS) {
      const id = (await docker(['run', '--detach', ...BOARD_OPTIONS, '--hostname', board, IMAGE])).trim();
      containers.set(board, { id, address: '' });
    }
    for (const board of BOARDS) {
      const container = containers.get(board)!;
      container.address = (await docker(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', container.id])).trim();
      await waitFor(`systemd up in ${board}`, async () => ['running', 'degraded'].includes(await onBoard(board, 'systemctl is-system-running || true')), 120_000, 500);
    }
    const first = containers.get(BOARDS[0]!)!;
    const init = await bramble(['cluster', 'init', '--out', bundleDir, '--server', `https://${first.address}:6443`]);
    assert.equal(init.code, 0, init.stderr);
    mkdirSync(join(work, 'ansible-tmp'));
    writeFileSync(
      inventory,
      [
        'bramble:',
        '  children:',
        '    bramble_initial:',
        '      hosts:',
        ...BOARDS.flatMap((board) => [`        ${board}:`, `          ansible_host: ${containers.get(board)!.id}`]),
        '  vars:',
        '    ansible_connection: community.docker.docker',
        '    ansible_python_interpreter: /usr/bin/python3',
        // docker exec is root already, and the image has no sudo.
        '    ansible_become: false',
        `    bramble_node_bundle_dir: ${bundleDir}`,
        // The engine is this machine's, reached through its socket: nothing to install.
        '    docker_install: false',
        // The image has the prereq packages and no reachable archive is needed: never refresh.
        '    prereq_apt_cache_valid_time: 315360000',
        '    bramble_node_env:',
        '      POD_NETWORK: "off"',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    for (const { id } of containers.values()) await docker(['rm', '--force', '--volumes', id]).catch(() => undefined);
    // Whatever the agents started on the shared engine carries their node name (none expected: no pods).
    for (const board of BOARDS) {
      const ids = (await docker(['ps', '--all', '--quiet', '--filter', `label=io.bramble.node=${board}`]).catch(() => '')).split('\n').filter(Boolean);
      for (const id of ids) await docker(['rm', '--force', id]).catch(() => undefined);
    }
    rmSync(work, { recursive: true, force: true });
  });

  test('site.yml installs every board and the three form a cluster that kubectl sees Ready', async () => {
    const hosts = await playbookOk('site.yml');
    for (const board of BOARDS) assert.ok(hosts.get(board)!.changed > 0, `${board}: site.yml changed nothing on a fresh board`);

    const nodes = await waitFor(
      'three Ready nodes in kubectl get nodes',
      async () => {
        // The role waited for each board's Node already; kubectl goes through ansible-1's API.
        const out = await kubectlOk(join(bundleDir, 'kubeconfig'), ['get', 'nodes', '-o', 'json']).catch(() => null);
        if (out === null) return false;
        const list = JSON.parse(out) as {
          items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
        };
        const ready = list.items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((node) => node.metadata.name);
        return ready.length === BOARDS.length && ready.sort();
      },
      120_000,
      500,
    );
    assert.deepEqual(nodes, BOARDS);

    const unit = readFileSync(join(projectDir, 'firmware-scripts', 'bramble.service'), 'utf8');
    const initialCluster = BOARDS.map((board) => `${board}=${containers.get(board)!.address}:7380`).join(',');
    for (const board of BOARDS) {
      assert.equal(await onBoard(board, 'sha256sum /usr/local/bin/bramble | cut -d" " -f1'), sha256(readFileSync(executable)), `${board}: not the x64 executable of dist/`);
      assert.equal(await onBoard(board, 'cat /etc/systemd/system/bramble.service'), unit.trim(), `${board}: not firmware-scripts/bramble.service`);
      assert.equal(await onBoard(board, 'stat -c %a /etc/bramble/env /etc/bramble/bundle /etc/bramble/bundle/ca.key'), '600\n700\n600');
      const env = await onBoard(board, 'cat /etc/bramble/env');
      for (const line of [`BRAMBLE_NAME=${board}`, `BRAMBLE_PEER_ADDR=${containers.get(board)!.address}:7380`, 'BRAMBLE_BUNDLE=/etc/bramble/bundle', `BRAMBLE_INITIAL_CLUSTER=${initialCluster}`, 'BRAMBLE_POD_NETWORK=off']) {
        assert.ok(env.split('\n').includes(line), `${board}: /etc/bramble/env lacks ${line}:\n${env}`);
      }
      assert.equal(await onBoard(board, 'systemctl is-enabled bramble; systemctl is-active bramble'), 'enabled\nactive');
      assert.equal(await onBoard(board, 'sysctl -n net.ipv4.ip_forward'), '1');
    }
  });

  test('a second site.yml run changes nothing', async () => {
    const hosts = await playbookOk('site.yml');
    for (const board of BOARDS) assert.equal(hosts.get(board)!.changed, 0, `${board} changed on the second run`);
  });

  test('upgrade.yml restarts only the board whose executable differs and waits for its Node', async () => {
    const mainPid = (board: string): Promise<string> => onBoard(board, 'systemctl show --property MainPID --value bramble');
    const before = new Map(await Promise.all(BOARDS.map(async (board) => [board, await mainPid(board)] as const)));
    // The running process keeps its deleted file; upgrade.yml sees a board without dist/'s executable.
    await onBoard('ansible-2', 'rm /usr/local/bin/bramble');
    const hosts = await playbookOk('upgrade.yml');
    assert.ok(hosts.get('ansible-2')!.changed > 0, 'upgrade.yml did not reinstall the executable of ansible-2');
    for (const board of ['ansible-1', 'ansible-3']) {
      assert.equal(hosts.get(board)!.changed, 0, `${board} changed although its executable is current`);
      assert.equal(await mainPid(board), before.get(board), `${board} was restarted`);
    }
    assert.notEqual(await mainPid('ansible-2'), before.get('ansible-2'), 'ansible-2 was not restarted');
    assert.equal(await onBoard('ansible-2', 'sha256sum /usr/local/bin/bramble | cut -d" " -f1'), sha256(readFileSync(executable)));
  });

  test('reset.yml removes what site.yml installed', async () => {
    for (const board of BOARDS) assert.equal(await presentOn(board), INSTALLED.join('\n'), `${board} lacks some of what site.yml installs`);
    await playbookOk('reset.yml');
    for (const board of BOARDS) {
      assert.equal(await presentOn(board), '', `${board} still has files after reset.yml`);
      assert.equal(await onBoard(board, 'systemctl is-active bramble || true'), 'inactive');
      assert.equal(await onBoard(board, "pgrep -f '^/usr/local/bin/bramble up' || true"), '', `${board}: bramble still runs`);
    }
  });
});
