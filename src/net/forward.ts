// The FORWARD path for pod traffic between boards. Docker sets the FORWARD policy to DROP and lets
// new connections into its bridges only for published ports, so a packet from another board's pod
// to a pod here would be dropped. Docker leaves the DOCKER-USER chain to the administrator and jumps
// to it first: Bramble accepts the cluster CIDR there (to and from), with rules it can recognise by
// their comment. Re-asserting is idempotent, for when the engine restarts and rebuilds its chains.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const FORWARD_COMMENT = 'bramble pod network';

/** Runs `iptables` with the arguments; resolves with its exit code (a test runs it in a namespace). */
export type IptablesCommand = (args: string[]) => Promise<number>;

export const hostIptables: IptablesCommand = async (args) => {
  try {
    await execFileAsync('iptables', ['-w', ...args]);
    return 0;
  } catch (error) {
    const code = (error as { code?: number | string }).code;
    if (typeof code === 'number') return code;
    throw error;
  }
};

function rules(clusterCidr: string): string[][] {
  const tail = ['-m', 'comment', '--comment', FORWARD_COMMENT, '-j', 'ACCEPT'];
  return [
    ['-s', clusterCidr, ...tail],
    ['-d', clusterCidr, ...tail],
  ];
}

/** Makes sure DOCKER-USER accepts the cluster CIDR both ways; returns how many rules it added. */
export async function ensureForwardAccept(iptables: IptablesCommand, clusterCidr: string): Promise<number> {
  if ((await iptables(['-n', '-L', 'DOCKER-USER'])) !== 0) {
    throw new Error('the DOCKER-USER chain is missing: the Docker engine has not set up its iptables (is it running with --iptables=false, or an iptables backend other than the one on PATH?)');
  }
  let added = 0;
  for (const rule of rules(clusterCidr)) {
    if ((await iptables(['-C', 'DOCKER-USER', ...rule])) === 0) continue;
    if ((await iptables(['-I', 'DOCKER-USER', ...rule])) !== 0) throw new Error(`iptables -I DOCKER-USER ${rule.join(' ')} failed`);
    added++;
  }
  return added;
}

export const EGRESS_COMMENT = 'bramble pod egress';

/**
 * Masquerades what this board's pods send outside the cluster CIDR (the LAN, the internet): the
 * other end answers the board's address. Pod-to-pod traffic is not masqueraded, so a receiver sees
 * the real pod IP. Docker's own masquerade is off on the pod bridge (pod-bridge.ts). Returns 1 when
 * it added the rule, 0 when it was there.
 */
export async function ensureEgressMasquerade(iptables: IptablesCommand, podCIDR: string, clusterCidr: string): Promise<number> {
  const rule = ['POSTROUTING', '-s', podCIDR, '!', '-d', clusterCidr, '-m', 'comment', '--comment', EGRESS_COMMENT, '-j', 'MASQUERADE'];
  if ((await iptables(['-t', 'nat', '-C', ...rule])) === 0) return 0;
  if ((await iptables(['-t', 'nat', '-A', ...rule])) !== 0) throw new Error(`iptables -t nat -A ${rule.join(' ')} failed`);
  return 1;
}
