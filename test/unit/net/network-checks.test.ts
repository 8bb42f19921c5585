// What keeps host-gw from working on a board, from the real commands' answers (captured on this
// machine: Debian 12, iptables 1.8.9) and from the real commands themselves where that is harmless.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIpForward, checkIptables, type CommandResult, type CommandRunner, hostRun, networkCondition, offSubnetProblem, parseBackend, splitPeers } from '../../../src/net/network-checks.ts';

const NFT_VERSION = 'iptables v1.8.9 (nf_tables)\n';
const LEGACY_VERSION = 'iptables v1.8.9 (legacy)\n';
const CHAIN = 'Chain DOCKER-USER (1 references)\ntarget     prot opt source               destination         \nRETURN     0    --  0.0.0.0/0            0.0.0.0/0           \n';

/** A board whose binaries answer as given ("file args..." -> result); anything else is missing. */
function board(answers: Record<string, CommandResult>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const run = async (file: string, args: string[]) => {
    const line = [file, ...args].join(' ');
    calls.push(line);
    return answers[line] ?? { code: 'missing' as const, stdout: '' };
  };
  return Object.assign(run, { calls });
}
const ok = (stdout: string): CommandResult => ({ code: 0, stdout });
const noChain: CommandResult = { code: 1, stdout: '' };

test('parseBackend reads the backend iptables --version names; older builds that do not say give undefined', () => {
  assert.equal(parseBackend(NFT_VERSION), 'nf_tables');
  assert.equal(parseBackend(LEGACY_VERSION), 'legacy');
  assert.equal(parseBackend('iptables v1.6.1\n'), undefined);
});

test('no iptables binary: NoIptables with the package to install', async () => {
  const problem = await checkIptables(board({}));
  assert.equal(problem?.reason, 'NoIptables');
  assert.equal(problem?.message, 'the iptables command is not on this board\'s PATH: host-gw needs it to let pod traffic through Docker\'s FORWARD filter and to masquerade what pods send outside the cluster. Install it (sudo apt-get install iptables) and restart bramble');
});

test('DOCKER-USER in the backend iptables uses: no problem, the other backend is not asked', async () => {
  const run = board({ 'iptables --version': ok(NFT_VERSION), 'iptables -w -n -L DOCKER-USER': ok(CHAIN) });
  assert.equal(await checkIptables(run), undefined);
  assert.deepEqual(run.calls, ['iptables --version', 'iptables -w -n -L DOCKER-USER']);
});

test('legacy iptables while Docker\'s chains are in nf_tables, and the reverse: IptablesBackendMismatch with the command to run', async () => {
  const legacy = await checkIptables(board({ 'iptables --version': ok(LEGACY_VERSION), 'iptables -w -n -L DOCKER-USER': noChain, 'iptables-nft -w -n -L DOCKER-USER': ok(CHAIN) }));
  assert.equal(legacy?.reason, 'IptablesBackendMismatch');
  assert.equal(legacy?.message, 'this board\'s iptables uses the legacy backend but Docker\'s chains (DOCKER-USER) are in nf_tables: rules added with it are never seen by the packets Docker filters. Use the backend Docker uses: sudo update-alternatives --set iptables /usr/sbin/iptables-nft, then restart docker and bramble');
  const nft = await checkIptables(board({ 'iptables --version': ok(NFT_VERSION), 'iptables -w -n -L DOCKER-USER': noChain, 'iptables-legacy -w -n -L DOCKER-USER': ok(CHAIN) }));
  assert.equal(nft?.reason, 'IptablesBackendMismatch');
  assert.match(nft?.message ?? '', /uses the nf_tables backend but Docker's chains \(DOCKER-USER\) are in legacy: .* sudo update-alternatives --set iptables \/usr\/sbin\/iptables-legacy,/);
});

test('DOCKER-USER in neither backend (or a build that names none): NoDockerUserChain', async () => {
  for (const version of [NFT_VERSION, 'iptables v1.6.1\n']) {
    const problem = await checkIptables(board({ 'iptables --version': ok(version), 'iptables -w -n -L DOCKER-USER': noChain, 'iptables-legacy -w -n -L DOCKER-USER': noChain }));
    assert.equal(problem?.reason, 'NoDockerUserChain', version);
  }
});

test('the real commands on this machine: Docker runs on the host backend, a missing binary is "missing"', async () => {
  assert.equal(await checkIptables(hostRun), undefined);
  assert.deepEqual(await hostRun('bramble-no-such-binary', []), { code: 'missing', stdout: '' });
  assert.equal((await hostRun('sh', ['-c', 'echo out; exit 3'])).code, 3);
});

test('ip_forward: 0 is IpForwardingDisabled with the sysctl to run; 1 or unreadable is fine', () => {
  assert.equal(checkIpForward('1'), undefined);
  assert.equal(checkIpForward(undefined), undefined);
  const off = checkIpForward('0');
  assert.equal(off?.reason, 'IpForwardingDisabled');
  assert.match(off?.message ?? '', /^net\.ipv4\.ip_forward is 0: .* sudo sysctl -w net\.ipv4\.ip_forward=1 /);
});

test('peers behind a gateway (captured `ip -j route get`) are off-subnet, named with their address; the others are direct', async () => {
  const routes: Record<string, string> = {
    '10.213.5.3': '[{"dst":"10.213.5.3","dev":"eth0","prefsrc":"10.213.5.2","flags":[],"uid":0,"cache":[]}]',
    '10.213.7.2': '[{"dst":"10.213.7.2","gateway":"10.213.5.1","dev":"eth0","prefsrc":"10.213.5.2","flags":[],"uid":0,"cache":[]}]',
  };
  const ip = async (args: string[]) => {
    const answer = routes[args[3] ?? ''];
    if (!answer) throw new Error('RTNETLINK answers: Network is unreachable');
    return answer;
  };
  const peers = [
    { node: 'b1', podCIDR: '10.42.1.0/24', via: '10.213.5.3' },
    { node: 'b2', podCIDR: '10.42.2.0/24', via: '10.213.7.2' },
    { node: 'b3', podCIDR: '10.42.3.0/24', via: '172.31.0.9' },
  ];
  const { direct, offSubnet } = await splitPeers(ip, peers);
  assert.deepEqual(direct.map((p) => p.node), ['b1']);
  assert.deepEqual(offSubnet, [{ peer: peers[1], gateway: '10.213.5.1' }, { peer: peers[2], gateway: undefined }]);
  const problem = offSubnetProblem(offSubnet);
  assert.equal(problem?.reason, 'PeerNotOnLocalSubnet');
  assert.equal(problem?.message, 'host-gw routes pods through the boards\' own addresses, so all boards must share one LAN subnet: b2 (10.213.7.2, behind the gateway 10.213.5.1), b3 (172.31.0.9, no route) are not on a subnet this board is directly connected to, and their pods are not reachable from here. Put every board on one subnet (one switch, or an access point without client isolation)');
  assert.match(offSubnetProblem(offSubnet.slice(0, 1))?.message ?? '', /: b2 \(10\.213\.7\.2, behind the gateway 10\.213\.5\.1\) is not on a subnet .*, and its pods are not/);
  assert.equal(offSubnetProblem([]), undefined);
});

test('the condition: False RouteCreated when nothing is wrong; True with the first reason and every message', () => {
  assert.deepEqual(networkCondition([undefined, undefined]), { status: 'False', reason: 'RouteCreated', message: 'host-gw: pod bridge, routes to the other boards and forwarding rules in place' });
  assert.deepEqual(networkCondition([undefined, { reason: 'IpForwardingDisabled', message: 'a' }, { reason: 'PeerNotOnLocalSubnet', message: 'b' }]), { status: 'True', reason: 'IpForwardingDisabled', message: 'a; also: b' });
});
