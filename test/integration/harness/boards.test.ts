import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Board, BoardBed, mountsUnder, pidAlive, pidfilePid, withBoards } from '../../lib/boards.ts';
import { docker } from '../../lib/docker.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';

function listNetns(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

/** True when the dotted IPv4 address lies in the a.b.c.0/24 the CIDR names. */
function inSlash24(ip: string, cidr: string): boolean {
  return cidr.endsWith('.0/24') && ip.startsWith(cidr.slice(0, -'0/24'.length));
}

/** Asserts that nothing of the board remains: no engine, no namespace, no mount under its dir, no dir. */
function assertGone(board: Board): void {
  assert.equal(pidAlive(board.pid), false, `dockerd ${board.pid} still alive`);
  assert.equal(listNetns().includes(board.host.netns), false, `netns ${board.host.netns} still there`);
  assert.deepEqual(mountsUnder(board.dir), []);
  assert.equal(existsSync(board.dir), false, `${board.dir} still there`);
}

test('two boards each run their own engine on their own bridge, and nothing is left after teardown', { timeout: 300_000 }, async () => {
  let seen: Board[] = [];
  await withBoards(2, async (bed) => {
    seen = bed.boards;
    const [first, second] = [bed.board(0), bed.board(1)];
    for (const board of seen) console.log(`board ${board.index}: engine answered ${board.startMs} ms after spawn`);
    assert.notEqual(first.bridgeCidr, second.bridgeCidr);

    const containers: string[] = [];
    for (const board of seen) {
      // Each socket answers as its own engine (its own data-root) and nsenter exec'd dockerd itself.
      assert.equal((await bed.docker(board, ['info', '--format', '{{.DockerRootDir}}'])).trim(), join(board.dir, 'data'));
      assert.equal(await pidfilePid(board), board.pid);
      const id = (await bed.docker(board, ['run', '--detach', testImages.amd64, ...SLEEPER_COMMAND])).trim();
      containers.push(id);
      const ip = (await bed.docker(board, ['inspect', '--format', '{{.NetworkSettings.IPAddress}}', id])).trim();
      assert.ok(inSlash24(ip, board.bridgeCidr), `container on board ${board.index} got ${ip}, not in ${board.bridgeCidr}`);
      // The board's bridge and the engine's iptables chains live in the board's namespace.
      const inside = bed.lab.exec(board.host, 'ip', ['-4', '-o', 'addr', 'show', 'docker0']);
      assert.match((await inside).stdout, new RegExp(`inet ${board.bridgeCidr.replace('.0/24', '.1/24').replaceAll('.', '\\.')}`));
      assert.match((await bed.lab.exec(board.host, 'iptables', ['-S', 'DOCKER-USER'])).stdout, /-N DOCKER-USER/);
    }
    const listed = await Promise.all(seen.map(async (board) => (await bed.docker(board, ['ps', '--quiet', '--no-trunc'])).trim().split('\n')));
    assert.deepEqual(listed, [[containers[0]], [containers[1]]]);
    const onHost = (await docker(['ps', '--all', '--quiet', '--no-trunc'])).split('\n');
    for (const id of containers) assert.equal(onHost.includes(id!), false, `the host engine sees ${id}`);
  });
  assert.equal(seen.length, 2);
  for (const board of seen) assertGone(board);
});

test('a failing body still tears the boards down, a SIGKILLed engine included', { timeout: 300_000 }, async () => {
  let seen: Board[] = [];
  await assert.rejects(
    withBoards(1, async (bed) => {
      seen = bed.boards;
      const board = bed.board(0);
      await bed.docker(board, ['run', '--detach', testImages.amd64, ...SLEEPER_COMMAND]);
      // An engine killed outright leaves its containerd, shim and mounts behind for teardown to find.
      process.kill(board.pid, 'SIGKILL');
      throw new Error('the test failed');
    }),
    /the test failed/,
  );
  assert.equal(seen.length, 1);
  for (const board of seen) assertGone(board);
});

test('a bed refuses an impossible size before making anything', async () => {
  await assert.rejects(BoardBed.create(0), /count must be 1\.\.50, got 0/);
});
