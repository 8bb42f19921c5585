// Host-gw on two boards of the test bed (own namespaces, own Docker engines, own routes and
// iptables): Bramble's routes are made, moved and removed without touching anyone else's, and with
// the pod networks, the routes and the DOCKER-USER rule a pod on board 0 reaches a pod on board 1
// by its pod IP, and the server sees the client's pod IP (no masquerade between pods), while what a
// pod sends outside the cluster CIDR leaves with its board's address.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import Dockerode from 'dockerode';
import { type Board, BoardBed } from '../../lib/boards.ts';
import { testImages } from '../../lib/images.ts';
import { waitFor } from '../../lib/wait.ts';
import { ensureEgressMasquerade, ensureForwardAccept, type IptablesCommand } from '../../../src/net/forward.ts';
import { ensurePodNetwork, POD_NETWORK_NAME } from '../../../src/net/pod-bridge.ts';
import { type IpCommand, readRoutes, reconcileRoutes, ROUTE_PROTOCOL } from '../../../src/net/routes.ts';

const execFileAsync = promisify(execFile);
let bed: BoardBed;

before(async () => {
  bed = await BoardBed.create(2);
});
after(() => bed.destroy());

/** `ip` inside the board's namespace. */
const ipOn = (board: Board): IpCommand => async (args) => (await execFileAsync('ip', ['-n', board.host.netns, ...args], { encoding: 'utf8' })).stdout;

const iptablesOn = (board: Board): IptablesCommand => async (args) => (await bed.lab.exec(board.host, 'iptables', ['-w', ...args])).code;

async function routeLines(board: Board): Promise<string> {
  return ipOn(board)(['-4', 'route', 'show']);
}

test('routes: added per peer, moved when its address changes, removed when it goes; foreign routes untouched', { timeout: 120_000 }, async () => {
  const [board, peer] = [bed.board(0), bed.board(1)];
  const ip = ipOn(board);
  // Someone else's routes: one for a subnet a Node will claim, one unrelated.
  await ip(['route', 'add', '10.42.99.0/24', 'via', peer.host.ip, 'proto', 'static']);
  await ip(['route', 'add', '192.0.2.0/24', 'via', peer.host.ip]);

  const peers = [
    { node: 'pi1', podCIDR: '10.42.21.0/24', via: peer.host.ip },
    { node: 'ghost', podCIDR: '10.42.99.0/24', via: bed.lab.bridgeIp },
  ];
  const first = await reconcileRoutes(ip, peers);
  assert.deepEqual(first, { set: [{ dst: '10.42.21.0/24', via: peer.host.ip }], remove: [], foreign: [{ node: 'ghost', dst: '10.42.99.0/24' }] });
  assert.match(await routeLines(board), new RegExp(`10\\.42\\.21\\.0/24 via ${peer.host.ip.replaceAll('.', '\\.')} dev eth0 proto ${ROUTE_PROTOCOL}`));
  assert.deepEqual(await reconcileRoutes(ip, peers), { set: [], remove: [], foreign: [{ node: 'ghost', dst: '10.42.99.0/24' }] }, 'nothing to do the second time');

  // pi1's address changes (DHCP): its route follows.
  const moved = [{ ...peers[0]!, via: bed.lab.bridgeIp }];
  assert.deepEqual((await reconcileRoutes(ip, moved)).set, [{ dst: '10.42.21.0/24', via: bed.lab.bridgeIp }]);
  assert.deepEqual((await readRoutes(ip)).ours, [{ dst: '10.42.21.0/24', via: bed.lab.bridgeIp }]);

  // pi1 leaves the cluster: its route goes, the foreign ones stay exactly as they were.
  assert.deepEqual((await reconcileRoutes(ip, [])).remove, [{ dst: '10.42.21.0/24', via: bed.lab.bridgeIp }]);
  const left = await routeLines(board);
  assert.ok(!left.includes('10.42.21.0/24'), left);
  assert.match(left, new RegExp(`10\\.42\\.99\\.0/24 via ${peer.host.ip.replaceAll('.', '\\.')} dev eth0 proto static`));
  assert.match(left, /192\.0\.2\.0\/24 via/);
  await ip(['route', 'del', '10.42.99.0/24', 'proto', 'static']);
  await ip(['route', 'del', '192.0.2.0/24']);
});

test('a pod on board 0 reaches a pod on board 1 by pod IP, and the server sees the client pod IP', { timeout: 180_000 }, async () => {
  const boards = [bed.board(0), bed.board(1)];
  const subnets = ['10.42.30.0/24', '10.42.31.0/24'];
  for (const [i, board] of boards.entries()) {
    await ensurePodNetwork(new Dockerode({ socketPath: join(board.dir, 'docker.sock') }), { podCIDR: subnets[i]! });
    const other = 1 - i;
    await reconcileRoutes(ipOn(board), [{ node: `board${other}`, podCIDR: subnets[other]!, via: boards[other]!.host.ip }]);
    assert.equal(await ensureForwardAccept(iptablesOn(board), '10.42.0.0/16'), 2);
    assert.equal(await ensureForwardAccept(iptablesOn(board), '10.42.0.0/16'), 0, 'idempotent');
    assert.equal(await ensureEgressMasquerade(iptablesOn(board), subnets[i]!, '10.42.0.0/16'), 1);
    assert.equal(await ensureEgressMasquerade(iptablesOn(board), subnets[i]!, '10.42.0.0/16'), 0, 'idempotent');
  }
  const [client, server] = boards as [Board, Board];
  const serverId = (
    await bed.docker(server, ['run', '--detach', '--network', POD_NETWORK_NAME, testImages.amd64, 'sh', '-c', 'mkdir /www && echo hello-from-board1 > /www/index.html && exec httpd -f -vv -p 8080 -h /www'])
  ).trim();
  const podIp = async (board: Board, id: string) => (await bed.docker(board, ['inspect', '--format', `{{(index .NetworkSettings.Networks "${POD_NETWORK_NAME}").IPAddress}}`, id])).trim();
  const serverIp = await podIp(server, serverId);
  assert.match(serverIp, /^10\.42\.31\.\d+$/);

  const clientId = (await bed.docker(client, ['run', '--detach', '--network', POD_NETWORK_NAME, testImages.amd64, 'sleep', '600'])).trim();
  const clientIp = await podIp(client, clientId);
  assert.match(clientIp, /^10\.42\.30\.\d+$/);
  const ping = await waitFor('a ping from the pod on board 0 to the pod on board 1', async () => {
    const run = await bed.docker(client, ['exec', clientId, 'ping', '-c', '1', '-W', '2', serverIp]).catch(() => '');
    return run.includes('1 packets received') ? run : null;
  }, 60_000, 500);
  assert.match(ping, /1 packets received/);
  const page = await waitFor('the page of the pod on board 1', () => bed.docker(client, ['exec', clientId, 'wget', '-q', '-O', '-', `http://${serverIp}:8080/`]).catch(() => ''), 60_000, 500);
  assert.equal(page.trim(), 'hello-from-board1');
  const log = await waitFor('the server log naming the client', async () => {
    const { stderr } = await execFileAsync('docker', ['-H', server.dockerHost, 'logs', serverId], { encoding: 'utf8' });
    return stderr.includes(clientIp) ? stderr : null;
  }, 30_000, 200);
  assert.ok(!log.includes(client.host.ip), `the server saw the board's address:\n${log}`);

  // Egress: the lab's own address is outside the cluster and has no route to the pod subnets, so
  // it can answer only when the pod's traffic leaves with board 0's address.
  const seen: string[] = [];
  const outside = createServer((socket) => {
    seen.push(socket.remoteAddress ?? '');
    socket.end('outside\n');
  });
  await new Promise<void>((resolve) => outside.listen(0, bed.lab.bridgeIp, resolve));
  try {
    const port = (outside.address() as AddressInfo).port;
    const reply = await waitFor('an answer from the server outside the cluster', () => bed.docker(client, ['exec', clientId, 'sh', '-c', `echo hi | nc -w 3 ${bed.lab.bridgeIp} ${port}`]).catch(() => ''), 60_000, 500);
    assert.equal(reply.trim(), 'outside');
    assert.ok(seen.length > 0 && seen.every((address) => address.endsWith(client.host.ip)), `the outside server saw ${seen.join(', ')}`);
  } finally {
    outside.close();
  }
});
