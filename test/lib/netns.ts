import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** One simulated board: a network namespace with one veth leg on the lab's bridge. */
export interface NetnsHost {
  /** Name of the network namespace (use with `ip netns exec`, or ProcessSpec.netns). */
  netns: string;
  ip: string;
  /** The host-side veth leg, attached to the bridge. */
  bridgePort: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(command: string, args: string[]): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { encoding: 'utf8' });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof failed.code !== 'number') throw error;
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', code: failed.code };
  }
}

async function must(command: string, args: string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** A /24 in 10.213.0.0/16 that no interface of this machine uses yet. */
async function unusedSubnet(): Promise<number> {
  const addresses = await must('ip', ['-4', '-o', 'addr', 'show']);
  for (let attempt = 0; attempt < 100; attempt++) {
    const octet = 1 + (randomBytes(1)[0]! % 254);
    if (!addresses.includes(`10.213.${octet}.`)) return octet;
  }
  throw new Error('no unused 10.213.x.0/24 subnet found');
}

const liveLabs = new Set<NetnsLab>();
process.on('exit', () => {
  for (const lab of liveLabs) lab.destroySync();
});

/**
 * Several "hosts" on one machine: network namespaces joined by a bridge, each with its own IP in
 * a private /24 that only this lab uses. Links between hosts can be cut one way or both ways.
 * Everything it creates is recorded here and removed by name of that exact object in destroy(),
 * including when the test fails or the runner exits.
 */
export class NetnsLab {
  readonly hosts: NetnsHost[] = [];
  readonly bridgeIp: string;
  private readonly cuts = new Set<string>();
  private readonly created: { bridge: boolean; forwardRule: boolean; netns: string[]; veths: string[] } = {
    bridge: false,
    forwardRule: false,
    netns: [],
    veths: [],
  };

  private constructor(
    readonly id: string,
    readonly bridge: string,
    private readonly subnetOctet: number,
  ) {
    this.bridgeIp = `10.213.${subnetOctet}.1`;
  }

  static async create(hostCount: number): Promise<NetnsLab> {
    if (hostCount < 1 || hostCount > 50) throw new Error(`NetnsLab: hostCount must be 1..50, got ${hostCount}`);
    const id = randomBytes(3).toString('hex');
    const lab = new NetnsLab(id, `brt${id}`, await unusedSubnet());
    liveLabs.add(lab);
    try {
      await lab.build(hostCount);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  private async build(hostCount: number): Promise<void> {
    await must('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.created.bridge = true;
    await must('ip', ['addr', 'add', `${this.bridgeIp}/24`, 'dev', this.bridge]);
    await must('ip', ['link', 'set', this.bridge, 'up']);
    // Docker sets the FORWARD policy to DROP and br_netfilter sends bridged frames through it.
    await must('iptables', ['-I', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
    this.created.forwardRule = true;
    for (let index = 1; index <= hostCount; index++) {
      const netns = `brt-${this.id}-${index}`;
      const bridgePort = `brt${this.id}p${index}`;
      const inside = `brt${this.id}i${index}`;
      const ip = `10.213.${this.subnetOctet}.${index + 1}`;
      await must('ip', ['netns', 'add', netns]);
      this.created.netns.push(netns);
      await must('ip', ['link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', inside]);
      this.created.veths.push(bridgePort);
      await must('ip', ['link', 'set', inside, 'netns', netns]);
      await must('ip', ['link', 'set', bridgePort, 'master', this.bridge, 'up']);
      await this.inHost(netns, 'ip', ['link', 'set', inside, 'name', 'eth0']);
      await this.inHost(netns, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await this.inHost(netns, 'ip', ['link', 'set', 'eth0', 'up']);
      await this.inHost(netns, 'ip', ['link', 'set', 'lo', 'up']);
      // mDNS and other multicast leave through eth0 without a default route.
      await this.inHost(netns, 'ip', ['route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      this.hosts.push({ netns, ip, bridgePort });
    }
  }

  private async inHost(netns: string, command: string, args: string[]): Promise<string> {
    return must('ip', ['netns', 'exec', netns, command, ...args]);
  }

  host(index: number): NetnsHost {
    const host = this.hosts[index];
    if (!host) throw new Error(`NetnsLab ${this.id} has no host ${index} (it has ${this.hosts.length})`);
    return host;
  }

  /** Runs a command inside a host's namespace and reports its exit code instead of throwing. */
  exec(host: NetnsHost, command: string, args: string[]): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', host.netns, command, ...args]);
  }

  /** True when `from` gets one ICMP echo reply from `to` within a second. */
  async canPing(from: NetnsHost, to: NetnsHost): Promise<boolean> {
    const result = await this.exec(from, 'ping', ['-c', '1', '-W', '1', to.ip]);
    return result.code === 0;
  }

  private cutRule(from: NetnsHost): string[] {
    return ['INPUT', '-s', from.ip, '-j', 'DROP'];
  }

  /** Drops everything `to` receives from `from` (unicast and multicast); `to` can still send to `from`. */
  async cut(from: NetnsHost, to: NetnsHost): Promise<void> {
    const key = `${from.netns}>${to.netns}`;
    if (this.cuts.has(key)) return;
    await this.inHost(to.netns, 'iptables', ['-I', ...this.cutRule(from)]);
    this.cuts.add(key);
  }

  async heal(from: NetnsHost, to: NetnsHost): Promise<void> {
    const key = `${from.netns}>${to.netns}`;
    if (!this.cuts.has(key)) return;
    await this.inHost(to.netns, 'iptables', ['-D', ...this.cutRule(from)]);
    this.cuts.delete(key);
  }

  async cutBoth(a: NetnsHost, b: NetnsHost): Promise<void> {
    await this.cut(a, b);
    await this.cut(b, a);
  }

  async healBoth(a: NetnsHost, b: NetnsHost): Promise<void> {
    await this.heal(a, b);
    await this.heal(b, a);
  }

  /** Unplugs a host's cable (its bridge port goes down) or plugs it back in. */
  async setLinkUp(host: NetnsHost, up: boolean): Promise<void> {
    await must('ip', ['link', 'set', host.bridgePort, up ? 'up' : 'down']);
  }

  /**
   * Limits the rate at which a host receives (a token bucket on its bridge port, the last hop
   * towards it), or lifts the limit with null. Removed with the veth pair in destroy().
   */
  async limitReceiveRate(host: NetnsHost, rateKbit: number | null): Promise<void> {
    if (rateKbit === null) {
      await run('tc', ['qdisc', 'del', 'dev', host.bridgePort, 'root']);
      return;
    }
    await must('tc', ['qdisc', 'replace', 'dev', host.bridgePort, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '32kbit', 'latency', '500ms']);
  }

  /** Removes the veth pairs, the namespaces, the FORWARD rule and the bridge. */
  async destroy(): Promise<void> {
    const errors: string[] = [];
    // Deleting one end removes the pair at once; a namespace's own teardown is asynchronous.
    for (const veth of this.created.veths.splice(0)) {
      const result = await run('ip', ['link', 'delete', veth]);
      if (result.code !== 0) errors.push(`ip link delete ${veth}: ${result.stderr.trim()}`);
    }
    for (const netns of this.created.netns.splice(0)) {
      const result = await run('ip', ['netns', 'delete', netns]);
      if (result.code !== 0) errors.push(`ip netns delete ${netns}: ${result.stderr.trim()}`);
    }
    if (this.created.forwardRule) {
      const result = await run('iptables', ['-D', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT']);
      if (result.code !== 0) errors.push(`iptables -D FORWARD for ${this.bridge}: ${result.stderr.trim()}`);
      this.created.forwardRule = false;
    }
    if (this.created.bridge) {
      const result = await run('ip', ['link', 'delete', this.bridge]);
      if (result.code !== 0) errors.push(`ip link delete ${this.bridge}: ${result.stderr.trim()}`);
      this.created.bridge = false;
    }
    liveLabs.delete(this);
    if (errors.length > 0) throw new Error(`NetnsLab ${this.id}: cleanup incomplete:\n${errors.join('\n')}`);
  }

  /** The same as destroy() for process exit, where nothing asynchronous runs any more. */
  destroySync(): void {
    const quiet = { stdio: 'ignore' } as const;
    for (const veth of this.created.veths.splice(0)) {
      try {
        execFileSync('ip', ['link', 'delete', veth], quiet);
      } catch {}
    }
    for (const netns of this.created.netns.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'delete', netns], quiet);
      } catch {}
    }
    try {
      if (this.created.forwardRule) execFileSync('iptables', ['-D', 'FORWARD', '-i', this.bridge, '-o', this.bridge, '-j', 'ACCEPT'], quiet);
    } catch {}
    try {
      if (this.created.bridge) execFileSync('ip', ['link', 'delete', this.bridge], quiet);
    } catch {}
    liveLabs.delete(this);
  }
}

/** Runs the body with a fresh lab of `hostCount` hosts and always destroys it. */
export async function withNetnsLab<T>(hostCount: number, body: (lab: NetnsLab) => Promise<T>): Promise<T> {
  const lab = await NetnsLab.create(hostCount);
  try {
    return await body(lab);
  } finally {
    await lab.destroy();
  }
}
