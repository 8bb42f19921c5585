// The service CIDR's route into the pod bridge, in a namespace of the netns lab: set once with
// proto 171, adopted as is, moved when the range changes, and a route someone else made for the
// range is left alone (reported 'foreign').
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import type { IpCommand } from '../../../src/net/routes.ts';
import { ensureServiceRoute } from '../../../src/net/service-route.ts';
import { withNetnsLab } from '../../lib/netns.ts';

const execFileAsync = promisify(execFile);

test('the service route: set, adopted, moved with the range; a foreign route for the range untouched', async () => {
  await withNetnsLab(1, async (lab) => {
    const netns = lab.hosts[0]!.netns;
    const ip: IpCommand = async (args) => (await execFileAsync('ip', ['-n', netns, ...args], { encoding: 'utf8' })).stdout;
    const device = (await ip(['-o', 'link', 'show'])).split('\n').map((line) => line.split(': ')[1]?.split('@')[0]).find((name) => name && name !== 'lo');
    assert.ok(device, 'the lab host has a link');
    const routes = async (): Promise<string> => (await ip(['-4', 'route', 'show', 'table', 'main'])).trim();

    assert.deepEqual(await ensureServiceRoute(ip, '10.43.0.0/16', device), { action: 'set', removed: [] });
    assert.match(await routes(), new RegExp(`10\\.43\\.0\\.0/16 dev ${device} proto 171`));
    assert.deepEqual(await ensureServiceRoute(ip, '10.43.0.0/16', device), { action: 'set', removed: [] }, 'a restart adopts it');

    assert.deepEqual(await ensureServiceRoute(ip, '10.96.0.0/16', device), { action: 'set', removed: ['10.43.0.0/16'] }, 'a new range moves it');
    assert.doesNotMatch(await routes(), /10\.43\.0\.0\/16/);

    await ip(['route', 'add', '10.50.0.0/16', 'dev', device, 'proto', 'static']);
    assert.deepEqual(await ensureServiceRoute(ip, '10.50.0.0/16', device), { action: 'foreign', removed: ['10.96.0.0/16'] });
    assert.match(await routes(), new RegExp(`10\\.50\\.0\\.0/16 dev ${device} proto static`), 'the foreign route is as it was');
    assert.doesNotMatch(await routes(), /proto 171/);
  });
});
