// The cluster DNS address on a board's `lo`, in a namespace of the netns lab: added once with
// Bramble's label, kept as it is on the next start, moved when the service range changes, and an
// address someone else put on lo is neither relabelled nor removed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { ensureLocalAddress, LOCAL_ADDRESS_LABEL } from '../../../src/net/dns/local-address.ts';
import type { IpCommand } from '../../../src/net/routes.ts';
import { withNetnsLab } from '../../lib/netns.ts';

const execFileAsync = promisify(execFile);

test('the cluster DNS address on lo: added, kept, moved with the range; foreign addresses untouched', async () => {
  await withNetnsLab(1, async (lab) => {
    const netns = lab.hosts[0]!.netns;
    const ip: IpCommand = async (args) => (await execFileAsync('ip', ['-n', netns, ...args], { encoding: 'utf8' })).stdout;
    const loAddresses = async (): Promise<string> => (await ip(['-4', '-o', 'addr', 'show', 'dev', 'lo'])).split('\n').filter(Boolean).map((line) => line.split(/\s+/).slice(3).join(' ')).join('\n');

    await ip(['addr', 'add', '10.99.0.10/32', 'dev', 'lo']); // someone else's
    assert.deepEqual(await ensureLocalAddress(ip, '10.43.0.10'), { action: 'added', removed: [] });
    assert.match(await loAddresses(), new RegExp(`10\\.43\\.0\\.10/32 scope global ${LOCAL_ADDRESS_LABEL}`));
    assert.deepEqual(await ensureLocalAddress(ip, '10.43.0.10'), { action: 'kept', removed: [] }, 'a restart adopts it');

    assert.deepEqual(await ensureLocalAddress(ip, '10.96.0.10'), { action: 'added', removed: ['10.43.0.10'] }, 'a new service range moves it');
    assert.deepEqual(await ensureLocalAddress(ip, '10.99.0.10'), { action: 'foreign', removed: ['10.96.0.10'] });
    const left = await loAddresses();
    assert.match(left, /10\.99\.0\.10\/32 scope global lo/, 'the foreign address is still there, its label unchanged');
    assert.doesNotMatch(left, new RegExp(LOCAL_ADDRESS_LABEL));
  });
});
