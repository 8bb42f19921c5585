// The board's address (Node InternalIP) from --peer-addr, the members' addresses and --api-addr.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardAddress, type BoardAddressDeps, routeTo } from '../../../src/net/board-address.ts';
import { hostIp } from '../../../src/net/routes.ts';

/** Routes as a board on 192.168.1.0/24 (wlan) and 10.0.0.0/24 (eth) would answer them; a lookup log. */
function lan(): BoardAddressDeps & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    sourceFor: async (destination) => {
      asked.push(destination);
      if (destination.startsWith('192.168.1.')) return '192.168.1.20';
      if (destination.startsWith('10.0.0.')) return '10.0.0.5';
      return undefined;
    },
    firstExternal: () => '10.0.0.5',
  };
}

test('a concrete --peer-addr host is the address, whatever --api-addr says; no route is looked up', async () => {
  const deps = lan();
  assert.equal(await boardAddress({ peerHost: '192.168.1.20', apiHost: '127.0.0.1', peerHosts: ['192.168.1.21'] }, deps), '192.168.1.20');
  assert.equal(await boardAddress({ peerHost: '192.168.1.20', apiHost: '0.0.0.0', peerHosts: [] }, deps), '192.168.1.20');
  assert.deepEqual(deps.asked, []);
});

test('a wildcard or loopback --peer-addr with peers elsewhere: the source address of the route to them', async () => {
  for (const peerHost of ['0.0.0.0', '::', '127.0.0.1']) {
    assert.equal(await boardAddress({ peerHost, apiHost: '127.0.0.1', peerHosts: ['192.168.1.21', '10.0.0.9'] }, lan()), '192.168.1.20', peerHost);
  }
  // Loopback and unroutable members are skipped: the first peer with a route decides.
  const deps = lan();
  assert.equal(await boardAddress({ peerHost: '0.0.0.0', apiHost: '127.0.0.1', peerHosts: ['127.0.0.2', '172.30.0.1', '10.0.0.9'] }, deps), '10.0.0.5');
  assert.deepEqual(deps.asked, ['172.30.0.1', '10.0.0.9']);
  // A name as a peer host cannot be asked for a route: skipped.
  assert.equal(await boardAddress({ peerHost: '127.0.0.1', apiHost: '127.0.0.1', peerHosts: ['pi2.local'] }, lan()), '127.0.0.1');
});

test('no peer elsewhere: a concrete --api-addr, else the loopback peer host (one machine), else the first external IPv4, else 127.0.0.1', async () => {
  assert.equal(await boardAddress({ peerHost: '127.0.0.1', apiHost: '192.168.1.20', peerHosts: [] }, lan()), '192.168.1.20');
  assert.equal(await boardAddress({ peerHost: '127.0.0.1', apiHost: '127.0.0.1', peerHosts: ['127.0.0.1'] }, lan()), '127.0.0.1');
  assert.equal(await boardAddress({ peerHost: '127.0.0.3', apiHost: '0.0.0.0', peerHosts: [] }, lan()), '127.0.0.3');
  assert.equal(await boardAddress({ peerHost: '0.0.0.0', apiHost: '0.0.0.0', peerHosts: [] }, lan()), '10.0.0.5');
  assert.equal(await boardAddress({ peerHost: '0.0.0.0', apiHost: '0.0.0.0', peerHosts: [] }, { sourceFor: async () => undefined, firstExternal: () => undefined }), '127.0.0.1');
  // The route's source is loopback (a peer address of this board itself): not an answer.
  assert.equal(await boardAddress({ peerHost: '0.0.0.0', apiHost: '127.0.0.1', peerHosts: ['192.168.1.21'] }, { sourceFor: async () => '127.0.0.1', firstExternal: () => undefined }), '127.0.0.1');
});

test('routeTo reads `ip -j route get` as the kernel answers it; a failed lookup is undefined', async () => {
  const local = await routeTo(hostIp, '127.0.0.1');
  assert.equal(local?.dev, 'lo');
  assert.equal(local?.prefsrc, '127.0.0.1');
  assert.equal(local?.gateway, undefined);
  assert.equal(await routeTo(hostIp, 'not-an-address'), undefined);
  // Captured on a board whose peer is behind a router: the gateway says it is not on a connected subnet.
  const captured = '[{"dst":"10.213.5.9","gateway":"192.0.2.1","dev":"eth0","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]';
  assert.deepEqual(await routeTo(async () => captured, '10.213.5.9'), JSON.parse(captured)[0]);
});
