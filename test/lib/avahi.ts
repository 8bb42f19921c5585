import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NetnsHost } from './netns.ts';
import type { ManagedProcess, ProcessGroup } from './processes.ts';

const execFileAsync = promisify(execFile);

/** One service avahi-browse resolved: `=;iface;IPv4;instance;type;domain;host;address;port;txt...`. */
export interface AvahiService {
  instance: string;
  host: string;
  address: string;
  port: number;
  txt: Record<string, string>;
}

/**
 * Debian's avahi-daemon inside one lab host, on a private D-Bus (its own dbus-daemon and socket
 * in a temp dir, so it never touches a system bus), for `avahi-browse` checks. Both processes
 * belong to the caller's ProcessGroup, which kills them by pid.
 */
export class AvahiInHost {
  private constructor(
    private readonly dir: string,
    private readonly host: NetnsHost,
    private readonly busAddress: string,
    readonly processes: ManagedProcess[],
  ) {}

  static async start(group: ProcessGroup, host: NetnsHost): Promise<AvahiInHost> {
    const dir = await mkdtemp(join(tmpdir(), 'bramble-avahi-'));
    const socket = join(dir, 'bus');
    const busAddress = `unix:path=${socket}`;
    await writeFile(
      join(dir, 'dbus.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>${busAddress}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
</busconfig>
`,
    );
    await writeFile(
      join(dir, 'avahi-daemon.conf'),
      `[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=eth0\nenable-dbus=yes\nratelimit-interval-usec=0\n[wide-area]\nenable-wide-area=no\n[publish]\ndisable-publishing=yes\n[reflector]\nenable-reflector=no\n`,
    );
    const env = { DBUS_SYSTEM_BUS_ADDRESS: busAddress };
    const bus = await group.spawn(`dbus-${host.netns}`, { command: ['dbus-daemon'], args: () => [`--config-file=${join(dir, 'dbus.conf')}`, '--nofork', '--nopidfile', '--print-address'] });
    await bus.waitForLog(/unix:path=/, 10_000);
    const daemon = await group.spawn(`avahi-${host.netns}`, {
      command: ['avahi-daemon'],
      args: () => ['-f', join(dir, 'avahi-daemon.conf'), '--no-drop-root', '--no-chroot', '--no-rlimits', '--no-proc-title'],
      env,
      netns: host.netns,
    });
    await daemon.waitForLog(/Server startup complete/, 20_000);
    return new AvahiInHost(dir, host, busAddress, [bus, daemon]);
  }

  /** `avahi-browse -rtp _bramble._tcp`: every resolved service (each node once; IPv4 only). */
  async browse(type = '_bramble._tcp'): Promise<AvahiService[]> {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', this.host.netns, 'avahi-browse', '-rtp', type], {
      env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: this.busAddress },
      timeout: 20_000,
      encoding: 'utf8',
    });
    const services: AvahiService[] = [];
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('=;')) continue;
      const fields = line.split(';');
      const txt: Record<string, string> = {};
      for (const match of (fields.slice(9).join(';')).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
        const text = match[1]!;
        const at = text.indexOf('=');
        if (at > 0) txt[text.slice(0, at)] = text.slice(at + 1);
      }
      services.push({ instance: fields[3]!, host: fields[6]!, address: fields[7]!, port: Number(fields[8]), txt });
    }
    return services;
  }

  async stop(): Promise<void> {
    for (const process of [...this.processes].reverse()) await process.stop(2_000);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** True when Debian's avahi-daemon, avahi-browse and dbus-daemon are installed (scripts/test-host.sh installs them). */
export async function avahiInstalled(): Promise<boolean> {
  try {
    await execFileAsync('sh', ['-c', 'command -v avahi-daemon && command -v avahi-browse && command -v dbus-daemon']);
    return true;
  } catch {
    return false;
  }
}
