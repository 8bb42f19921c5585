// What keeps host-gw from working on this board, each with what to do: no iptables binary, an
// iptables backend other than the one Docker's chains live in (legacy vs nf_tables, the classic
// k3s trap: rules land in tables no packet visits), Docker's DOCKER-USER chain missing, IP
// forwarding off, and peers that are not on a subnet this board is directly connected to (host-gw
// routes via a peer's address, which must be one hop away). The pod network reports them as the
// Node's NetworkUnavailable condition (pod-network.ts); pods on the board still run.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { routeTo } from './board-address.ts';
import type { IpCommand, PeerSubnet } from './routes.ts';

/** A command's exit code and output; `missing` when the binary is not on PATH. */
export interface CommandResult {
  code: number | 'missing';
  stdout: string;
}

/** Runs a command by name (a test runs it in a board's namespace). */
export type CommandRunner = (file: string, args: string[]) => Promise<CommandResult>;

export const hostRun: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (error, stdout) => {
      const code = (error as { code?: number | string } | null)?.code;
      if (code === 'ENOENT') resolve({ code: 'missing', stdout: '' });
      else resolve({ code: error ? (typeof code === 'number' ? code : 1) : 0, stdout });
    });
  });

export const hostIpForward = async (): Promise<string | undefined> => (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8').catch(() => '')).trim() || undefined;

export interface NetworkProblem {
  /** A NetworkUnavailable reason (CamelCase, as Kubernetes' reasons). */
  reason: string;
  message: string;
}

/** The reasons, most fundamental first: the condition shows the first one found. */
export const NetworkReasons = {
  noIptables: 'NoIptables',
  backendMismatch: 'IptablesBackendMismatch',
  noDockerChain: 'NoDockerUserChain',
  ipForwardOff: 'IpForwardingDisabled',
  peerOffSubnet: 'PeerNotOnLocalSubnet',
} as const;

export type Backend = 'legacy' | 'nf_tables';

/** Pure: the backend `iptables --version` names ("iptables v1.8.9 (nf_tables)"); undefined for older builds that do not say. */
export function parseBackend(versionOutput: string): Backend | undefined {
  const match = /\((legacy|nf_tables)\)/.exec(versionOutput);
  return match ? (match[1] as Backend) : undefined;
}

const otherBinary: Record<Backend, string> = { legacy: 'iptables-nft', nf_tables: 'iptables-legacy' };
const switchCommand: Record<Backend, string> = {
  legacy: 'sudo update-alternatives --set iptables /usr/sbin/iptables-nft',
  nf_tables: 'sudo update-alternatives --set iptables /usr/sbin/iptables-legacy',
};

const hasDockerUser = async (run: CommandRunner, binary: string): Promise<boolean> => (await run(binary, ['-w', '-n', '-L', 'DOCKER-USER'])).code === 0;

/** The iptables problem of this board, if any (at most one: each hides the next). */
export async function checkIptables(run: CommandRunner): Promise<NetworkProblem | undefined> {
  const version = await run('iptables', ['--version']);
  if (version.code === 'missing') {
    return {
      reason: NetworkReasons.noIptables,
      message: 'the iptables command is not on this board\'s PATH: host-gw needs it to let pod traffic through Docker\'s FORWARD filter and to masquerade what pods send outside the cluster. Install it (sudo apt-get install iptables) and restart bramble',
    };
  }
  if (await hasDockerUser(run, 'iptables')) return undefined;
  const backend = parseBackend(version.stdout);
  if (backend && (await hasDockerUser(run, otherBinary[backend]))) {
    const other = backend === 'legacy' ? 'nf_tables' : 'legacy';
    return {
      reason: NetworkReasons.backendMismatch,
      message: `this board's iptables uses the ${backend} backend but Docker's chains (DOCKER-USER) are in ${other}: rules added with it are never seen by the packets Docker filters. Use the backend Docker uses: ${switchCommand[backend]}, then restart docker and bramble`,
    };
  }
  return {
    reason: NetworkReasons.noDockerChain,
    message: 'the DOCKER-USER chain is missing: the Docker engine has not set up its iptables (it runs with --iptables=false, or is not running yet). Start dockerd with its iptables on; bramble adds its rules there',
  };
}

export function checkIpForward(value: string | undefined): NetworkProblem | undefined {
  if (value === undefined || value === '1') return undefined;
  return {
    reason: NetworkReasons.ipForwardOff,
    message: 'net.ipv4.ip_forward is 0: this board does not forward packets between its pods and the other boards. Run sudo sysctl -w net.ipv4.ip_forward=1 and keep it in /etc/sysctl.d/99-bramble.conf (dockerd turns it on at start unless run with --ip-forward=false)',
  };
}

/** The peers one hop away (routed) and the others, each with how this board would reach it. */
export async function splitPeers(ip: IpCommand, peers: readonly PeerSubnet[]): Promise<{ direct: PeerSubnet[]; offSubnet: { peer: PeerSubnet; gateway: string | undefined }[] }> {
  const direct: PeerSubnet[] = [];
  const offSubnet: { peer: PeerSubnet; gateway: string | undefined }[] = [];
  for (const peer of peers) {
    const route = await routeTo(ip, peer.via);
    if (route && !route.gateway) direct.push(peer);
    else offSubnet.push({ peer, gateway: route?.gateway });
  }
  return { direct, offSubnet };
}

export function offSubnetProblem(offSubnet: readonly { peer: PeerSubnet; gateway: string | undefined }[]): NetworkProblem | undefined {
  if (offSubnet.length === 0) return undefined;
  const named = offSubnet.map(({ peer, gateway }) => `${peer.node} (${peer.via}, ${gateway ? `behind the gateway ${gateway}` : 'no route'})`).join(', ');
  const [is, its] = offSubnet.length === 1 ? ['is', 'its'] : ['are', 'their'];
  return {
    reason: NetworkReasons.peerOffSubnet,
    message: `host-gw routes pods through the boards' own addresses, so all boards must share one LAN subnet: ${named} ${is} not on a subnet this board is directly connected to, and ${its} pods are not reachable from here. Put every board on one subnet (one switch, or an access point without client isolation)`,
  };
}

/** Pure: the NetworkUnavailable condition from the problems found (in NetworkReasons order). */
export function networkCondition(problems: readonly (NetworkProblem | undefined)[]): { status: 'True' | 'False'; reason: string; message: string } {
  const found = problems.filter((p): p is NetworkProblem => p !== undefined);
  if (found.length === 0) return { status: 'False', reason: 'RouteCreated', message: 'host-gw: pod bridge, routes to the other boards and forwarding rules in place' };
  return { status: 'True', reason: found[0]!.reason, message: found.map((p) => p.message).join('; also: ') };
}
