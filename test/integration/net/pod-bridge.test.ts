// The board's pod bridge on a real board of the test bed (its own namespace and Docker engine):
// made on the Node's subnet with Docker's masquerade off, adopted as it is after a restart, and
// never a network Bramble did not make or made for another subnet.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Dockerode from 'dockerode';
import { type Board, BoardBed } from '../../lib/boards.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { ensurePodNetwork, POD_BRIDGE_NAME, POD_NETWORK_NAME } from '../../../src/net/pod-bridge.ts';

let bed: BoardBed;
let board: Board;
let docker: Dockerode;

before(async () => {
  bed = await BoardBed.create(1);
  board = bed.board(0);
  docker = new Dockerode({ socketPath: join(board.dir, 'docker.sock') });
});
after(() => bed.destroy());

async function natRules(): Promise<string> {
  return (await bed.lab.exec(board.host, 'iptables', ['-t', 'nat', '-S', 'POSTROUTING'])).stdout;
}

test('the pod network is made on the subnet, with its own bridge and no Docker masquerade, then adopted', { timeout: 120_000 }, async () => {
  const made = await ensurePodNetwork(docker, { podCIDR: '10.42.3.0/24' });
  assert.equal(made.action, 'created');
  assert.equal(made.gateway, '10.42.3.1');
  const bridge = await bed.lab.exec(board.host, 'ip', ['-4', '-o', 'addr', 'show', POD_BRIDGE_NAME]);
  assert.match(bridge.stdout, /inet 10\.42\.3\.1\/24/);
  // Docker masquerades its default bridge, not this one.
  const nat = await natRules();
  assert.ok(nat.includes(`-A POSTROUTING -s ${board.bridgeCidr} ! -o docker0 -j MASQUERADE`), nat);
  assert.ok(!nat.includes('10.42.3.0/24'), nat);

  const again = await ensurePodNetwork(docker, { podCIDR: '10.42.3.0/24' });
  assert.deepEqual(again, { id: made.id, action: 'adopted', gateway: '10.42.3.1' });

  const id = (await bed.docker(board, ['run', '--detach', '--network', POD_NETWORK_NAME, testImages.amd64, ...SLEEPER_COMMAND])).trim();
  const ip = (await bed.docker(board, ['inspect', '--format', `{{(index .NetworkSettings.Networks "${POD_NETWORK_NAME}").IPAddress}}`, id])).trim();
  assert.match(ip, /^10\.42\.3\.\d+$/);
  await bed.docker(board, ['rm', '--force', id]);
  await bed.docker(board, ['network', 'rm', POD_NETWORK_NAME]);
});

test('a pod network made for another subnet is refused as it is, with what to do', { timeout: 120_000 }, async () => {
  const made = await ensurePodNetwork(docker, { podCIDR: '10.42.4.0/24' });
  await assert.rejects(ensurePodNetwork(docker, { podCIDR: '10.42.5.0/24' }), {
    message: `the Docker network ${POD_NETWORK_NAME} was made for 10.42.4.0/24 on bridge ${POD_BRIDGE_NAME}, but this board's pod subnet is 10.42.5.0/24 on ${POD_BRIDGE_NAME}: remove it (docker network rm ${POD_NETWORK_NAME}) once no pod uses it, and the agent makes it again`,
  });
  const still = await docker.getNetwork(POD_NETWORK_NAME).inspect();
  assert.equal(still.Id, made.id);
  await bed.docker(board, ['network', 'rm', POD_NETWORK_NAME]);
});

test('a network of that name that Bramble did not make is left alone', { timeout: 120_000 }, async () => {
  const foreign = (await bed.docker(board, ['network', 'create', '--subnet', '10.42.6.0/24', POD_NETWORK_NAME])).trim();
  await assert.rejects(ensurePodNetwork(docker, { podCIDR: '10.42.6.0/24' }), {
    message: `the Docker network ${POD_NETWORK_NAME} exists but Bramble did not make it (no io.bramble.pod-network label): rename or remove it, Bramble leaves it alone`,
  });
  assert.equal((await docker.getNetwork(POD_NETWORK_NAME).inspect()).Id, foreign);
  await bed.docker(board, ['network', 'rm', foreign]);
});

test('a pod subnet that is not an IPv4 /24 is refused before Docker is asked', async () => {
  await assert.rejects(ensurePodNetwork(docker, { podCIDR: '10.42.0.0/16' }), { message: 'pod subnet 10.42.0.0/16 is not an IPv4 /24 (a.b.c.0/24)' });
});
