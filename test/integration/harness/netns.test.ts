import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
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

/**
 * A UDP listener inside a host. It reports "ready" once bound and exits at a "control" datagram,
 * printing what arrived before it. Exits by itself after 60 s only so a broken run cannot hang.
 */
function udpListener(host: NetnsHost, port: number): { ready: Promise<void>; received: Promise<string[]>; stop: () => void } {
  const script = `const s = require('dgram').createSocket('udp4'); const got = [];
    s.on('message', (m) => { const t = String(m); if (t !== 'control') { got.push(t); return; } process.stdout.write('got:' + JSON.stringify(got) + '\\n'); process.exit(0); });
    s.bind(${port}, () => process.stdout.write('ready\\n')); setTimeout(() => process.exit(3), 60000);`;
  const child = spawn('ip', ['netns', 'exec', host.netns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const failed = (code: number | null): Error => new Error(`UDP listener in ${host.netns} exited ${code}: ${stderr.trim()}`);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => stdout.includes('ready\n') && resolve());
    void exited.then((code) => reject(failed(code)));
  });
  const received = exited.then((code) => {
    const line = /^got:(.*)$/m.exec(stdout);
    if (code !== 0 || !line) throw failed(code);
    return JSON.parse(line[1]!) as string[];
  });
  // A listener that dies before "ready" is reported by `ready`; this keeps it reported once.
  received.catch(() => undefined);
  return { ready, received, stop: () => child.kill() };
}

/** Sends UDP datagrams from one host to a listener in another; true if one arrived. */
async function udpArrives(lab: NetnsLab, from: NetnsHost, to: NetnsHost): Promise<boolean> {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const listener = udpListener(to, port);
  try {
    // Send only once the listener is bound, so a slow start on a busy machine cannot lose them.
    await listener.ready;
    const send = (text: string, count: number): string =>
      `const s = require('dgram').createSocket('udp4'); let left = ${count}; for (let i = 0; i < ${count}; i++) s.send('${text}', ${port}, '${to.ip}', () => { if (--left === 0) s.close(); });`;
    const sent = await lab.exec(from, process.execPath, ['-e', send('hello', 3)]);
    assert.equal(sent.code, 0, sent.stderr);
    // The control datagram is sent from inside the listener's own host after the sender exited (a
    // process start later), so a "hello" that crossed the link is queued ahead of it: no time window
    // decides the answer, and a listener that got nothing was alive and reading.
    const control = await lab.exec(to, process.execPath, ['-e', send('control', 1)]);
    assert.equal(control.code, 0, control.stderr);
    return (await listener.received).includes('hello');
  } finally {
    listener.stop();
  }
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
