import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { AvahiInHost, avahiInstalled } from '../../lib/avahi.ts';
import { type NetnsHost, withNetnsLab } from '../../lib/netns.ts';
import { type ManagedProcess, type ProcessGroup, withProcesses } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const probeScript = resolve(import.meta.dirname, 'mdns-probe.ts');

interface ProbeTable {
  peers: { name: string; id: string; cluster: string; addresses: string[]; state: string; peerPort: number }[];
  garbage: number;
}

function spawnProbe(group: ProcessGroup, name: string, host: NetnsHost, extra: string[] = []): Promise<ManagedProcess> {
  return group.spawn(name, { command: [process.execPath, '--import', 'tsx', probeScript], args: ({ dataDir }) => [name, dataDir, host.ip, ...extra], netns: host.netns });
}

function lastTable(probe: ManagedProcess): ProbeTable | null {
  const line = [...probe.log].reverse().find((entry) => entry.startsWith('PEERS '));
  return line ? (JSON.parse(line.slice('PEERS '.length)) as ProbeTable) : null;
}

const peerNames = (probe: ManagedProcess) => (lastTable(probe)?.peers ?? []).map((peer) => peer.name).join(',');

test('nodes in separate namespaces see each other over real multicast, with their TXT; another cluster id is kept apart; a stopped node is dropped', async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      const a = await spawnProbe(group, 'alpha', lab.host(0));
      const b = await spawnProbe(group, 'beta', lab.host(1));
      const other = await spawnProbe(group, 'gamma', lab.host(2), ['--cluster', 'another']);
      await waitFor('alpha to see beta', async () => peerNames(a) === 'beta', 15_000);
      await waitFor('beta to see alpha', async () => peerNames(b) === 'alpha', 15_000);
      const beta = lastTable(a)!.peers[0]!;
      assert.deepEqual(beta, { name: 'beta', id: beta.id, cluster: 'test', addresses: [lab.host(1).ip], state: 'forming', peerPort: 7380 });
      // gamma announces the whole time (another cluster id): nobody of cluster "test" lists it, nor it them.
      await other.waitForLog(/^READY /, 15_000);
      await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
      assert.equal(peerNames(a), 'beta');
      assert.equal(peerNames(other), '');
      // A clean stop says goodbye: the others drop it at once, not after its records expire.
      await b.stop();
      await waitFor('alpha to drop beta after its goodbye', async () => peerNames(a) === '', 3_000);
    }),
  );
});

test('garbage packets and malformed TXT records at the mDNS group do not disturb the browse loop', async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      const a = await spawnProbe(group, 'alpha', lab.host(0));
      const b = await spawnProbe(group, 'beta', lab.host(1));
      await waitFor('alpha to see beta', async () => peerNames(a) === 'beta', 15_000);
      const garbage = await spawnProbe(group, 'garbage', lab.host(2), ['--garbage']);
      assert.deepEqual(await garbage.waitForExit(), { code: 0, signal: null });
      assert.ok(garbage.log.includes('GARBAGE-SENT'));
      await waitFor('alpha to count the undecodable packets', async () => (lastTable(a)?.garbage ?? 0) > 0, 5_000);
      // Still alive, still browsing: the malformed "x-1" service never shows up, a new peer does.
      assert.ok(a.running && b.running);
      const c = await spawnProbe(group, 'gamma', lab.host(2));
      await waitFor('alpha to see gamma after the garbage', async () => peerNames(a) === 'beta,gamma', 15_000);
      assert.ok(!peerNames(a).includes('x-1') && !peerNames(b).includes('x-1'));
      assert.ok(c.running);
    }),
  );
});

test('a node that cannot use multicast is found through its --join host by unicast', async () => {
  await withNetnsLab(2, (lab) =>
    withProcesses(async (group) => {
      // Host 1 neither sends nor hears multicast (like a Wi-Fi client behind an access point that drops it).
      for (const chain of [['INPUT', '-d'], ['OUTPUT', '-d']]) {
        const result = await lab.exec(lab.host(1), 'iptables', ['-I', chain[0]!, chain[1]!, '224.0.0.0/4', '-j', 'DROP']);
        assert.equal(result.code, 0, result.stderr);
      }
      const a = await spawnProbe(group, 'alpha', lab.host(0));
      const b = await spawnProbe(group, 'beta', lab.host(1));
      await new Promise((resolveWait) => setTimeout(resolveWait, 1_500));
      assert.equal(peerNames(a), '', 'multicast is really blocked');
      await b.stop();
      const joined = await spawnProbe(group, 'beta2', lab.host(1), ['--join', lab.host(0).ip]);
      await waitFor('alpha to see beta2 by unicast', async () => peerNames(a) === 'beta2', 10_000);
      await waitFor('beta2 to see alpha by unicast', async () => peerNames(joined) === 'alpha', 10_000);
    }),
  );
});

test('avahi-browse (Debian avahi-utils) in a namespace lists every node with its TXT', { skip: !(await avahiInstalled()) && 'avahi-daemon/avahi-utils/dbus are not installed (scripts/test-host.sh installs them)' }, async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      const probes = [await spawnProbe(group, 'alpha', lab.host(0)), await spawnProbe(group, 'beta', lab.host(1))];
      const ids = await Promise.all(probes.map(async (probe) => (await probe.waitForLog(/^READY /, 15_000)).split(' ')[1]!));
      const avahi = await AvahiInHost.start(group, lab.host(2));
      try {
        const services = await waitFor(
          'avahi-browse to resolve both nodes',
          async () => {
            const found = await avahi.browse();
            return found.length === 2 ? found : null;
          },
          20_000,
        );
        services.sort((x, y) => x.txt.name!.localeCompare(y.txt.name!));
        for (const [i, name] of ['alpha', 'beta'].entries()) {
          const service = services[i]!;
          assert.equal(service.instance, `${name}-${ids[i]!.slice(0, 6)}`);
          assert.equal(service.address, lab.host(i).ip);
          assert.equal(service.port, 7380);
          assert.equal(service.host, `bramble-${ids[i]}.local`);
          assert.deepEqual(
            { ...service.txt },
            { txtvers: '1', cluster: 'test', name, id: ids[i], peer: '7380', client: '7379', api: '6443', arch: service.txt.arch, version: '0.1.0', state: 'forming', boot: '', phase: '', unicast: '0' },
          );
          assert.match(service.txt.arch!, /^(amd64|arm64|arm)$/);
        }
      } finally {
        await avahi.stop();
      }
    }),
  );
});
