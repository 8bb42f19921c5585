import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { type NetnsHost, type NetnsLab, withNetnsLab } from '../../lib/netns.ts';
import { withProcesses } from '../../lib/processes.ts';
import { readGreeting } from '../../lib/tcp.ts';

const countingServer = resolve(import.meta.dirname, '..', '..', 'fixtures', 'counting-server.mjs');

function listNetns(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function forwardRules(): string {
  return execFileSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' });
}

/** Sends one UDP datagram from one host to a listener in another; true if it arrived. */
async function udpArrives(lab: NetnsLab, from: NetnsHost, to: NetnsHost): Promise<boolean> {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const listener = lab.exec(to, process.execPath, [
    '-e',
    `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { process.stdout.write(String(m)); process.exit(0); }); s.bind(${port}); setTimeout(() => process.exit(3), 2500);`,
  ]);
  // Several datagrams over a second, so a listener that is slow to bind still gets one.
  await lab.exec(from, process.execPath, [
    '-e',
    `const s = require('dgram').createSocket('udp4'); let n = 0; const t = setInterval(() => { s.send('hello', ${port}, '${to.ip}'); if (++n === 8) { clearInterval(t); setTimeout(() => s.close(), 100); } }, 150);`,
  ]);
  const result = await listener;
  return result.code === 0 && result.stdout === 'hello';
}

describe('network-namespace lab', () => {
  test('hosts reach each other over the bridge, not across a cut link, and again once healed', async () => {
    await withNetnsLab(3, async (lab) => {
      const [a, b, c] = [lab.host(0), lab.host(1), lab.host(2)];
      assert.notEqual(a.ip, b.ip);
      assert.equal(await lab.canPing(a, b), true, 'a reaches b');
      assert.equal(await lab.canPing(b, c), true, 'b reaches c');

      await lab.cutBoth(a, b);
      assert.equal(await lab.canPing(a, b), false, 'a cannot reach b after the cut');
      assert.equal(await lab.canPing(b, a), false, 'b cannot reach a after the cut');
      assert.equal(await lab.canPing(a, c), true, 'the cut leaves a-c alone');

      await lab.healBoth(a, b);
      assert.equal(await lab.canPing(a, b), true, 'a reaches b after healing');
    });
  });

  test('a one-way cut drops only one direction', async () => {
    await withNetnsLab(2, async (lab) => {
      const [a, b] = [lab.host(0), lab.host(1)];
      await lab.cut(a, b);
      assert.equal(await lab.canPing(a, b), false, 'a -> b is cut, so a gets no reply');
      // b -> a still flows: a UDP datagram from b arrives at a listener in a.
      assert.equal(await udpArrives(lab, b, a), true, 'b -> a is not cut');
      assert.equal(await udpArrives(lab, a, b), false, 'a -> b is cut');
      await lab.heal(a, b);
      assert.equal(await lab.canPing(a, b), true);
      assert.equal(await udpArrives(lab, a, b), true);
    });
  });

  test('an unplugged host is cut off from everyone until plugged back in', async () => {
    await withNetnsLab(2, async (lab) => {
      const [a, b] = [lab.host(0), lab.host(1)];
      await lab.setLinkUp(a, false);
      assert.equal(await lab.canPing(b, a), false);
      await lab.setLinkUp(a, true);
      // A bridge port takes a moment to forward again after it comes up.
      let reachable = false;
      for (let attempt = 0; attempt < 10 && !reachable; attempt++) reachable = await lab.canPing(b, a);
      assert.equal(reachable, true);
    });
  });

  test('a process runs inside a host and serves the others over TCP; a cut stops that', async () => {
    await withNetnsLab(2, async (lab) => {
      const [server, client] = [lab.host(0), lab.host(1)];
      await withProcesses(async (group) => {
        const proc = await group.spawn('in-netns', {
          portNames: ['main'],
          command: [process.execPath, countingServer],
          args: ({ ports, dataDir }) => [String(ports.main), dataDir, '0.0.0.0'],
          netns: server.netns,
        });
        await proc.waitForLog(/listening/);
        const port = String(proc.ports.main);
        const fetched = await lab.exec(client, process.execPath, [
          '-e',
          `require('net').connect(${port}, '${server.ip}').on('data', (d) => process.stdout.write(d))`,
        ]);
        assert.match(fetched.stdout, /^start=1 /);
        // The root namespace reaches the lab too, through the bridge address.
        assert.match(await readGreeting(server.ip, Number(port)), /^start=1 /);
        await lab.cut(client, server);
        const blocked = await lab.exec(client, process.execPath, [
          '-e',
          `const s = require('net').connect(${port}, '${server.ip}'); s.on('connect', () => process.exit(0)); setTimeout(() => process.exit(7), 1500)`,
        ]);
        assert.equal(blocked.code, 7, 'the connection does not get through a cut link');
      });
    });
  });

  test('destroy removes exactly what the lab created, also when the test body fails', async () => {
    let lab: NetnsLab | undefined;
    await assert.rejects(
      withNetnsLab(2, async (created) => {
        lab = created;
        assert.ok(listNetns().includes(created.host(0).netns));
        assert.ok(linkExists(created.bridge));
        assert.match(forwardRules(), new RegExp(`-i ${created.bridge} -o ${created.bridge} -j ACCEPT`));
        throw new Error('deliberate failure');
      }),
      /deliberate failure/,
    );
    assert.ok(lab);
    for (const host of lab.hosts) assert.equal(listNetns().includes(host.netns), false, `${host.netns} removed`);
    assert.equal(linkExists(lab.bridge), false, 'bridge removed');
    for (const host of lab.hosts) assert.equal(linkExists(host.bridgePort), false, 'veth removed');
    assert.doesNotMatch(forwardRules(), new RegExp(lab.bridge), 'FORWARD rule removed');
  });
});
