import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/cli/output.ts';
import { parseFormationOptions, withFormationAddressDefaults } from '../../../src/cli/up-formation.ts';
import type { RawUpFlags } from '../../../src/cli/up-options.ts';

test('--bootstrap-expect and its tuning flags', () => {
  assert.equal(parseFormationOptions({}), null);
  assert.deepEqual(parseFormationOptions({ bootstrapExpect: '3' }), { bootstrapExpect: 3, memberSearchMs: 120_000, settleMs: 5_000, mdnsIntervalMs: 1_000, voters: 0, autopilotStableMs: 10_000, autopilotDeadMs: 30_000, autopilotRemoveDeadMs: 3_600_000 });
  assert.deepEqual(parseFormationOptions({ bootstrapExpect: '5', bootstrapSettleMs: '800', mdnsIntervalMs: '200', voters: '3', autopilotStableMs: '0', autopilotDeadMs: '1500' }), {
    bootstrapExpect: 5, memberSearchMs: 120_000, settleMs: 800, mdnsIntervalMs: 200, voters: 3, autopilotStableMs: 0, autopilotDeadMs: 1_500, autopilotRemoveDeadMs: 3_600_000,
  });
});

test('--token without --join implies discovery (no first voter: bootstrapExpect null); with --join it does not', () => {
  const token = 'BRAMBLE-1-' + 'a'.repeat(64) + '-' + 'b'.repeat(32);
  assert.deepEqual(parseFormationOptions({ token }), { bootstrapExpect: null, memberSearchMs: 120_000, settleMs: 5_000, mdnsIntervalMs: 1_000, voters: 0, autopilotStableMs: 10_000, autopilotDeadMs: 30_000, autopilotRemoveDeadMs: 3_600_000 });
  assert.equal(parseFormationOptions({ token, memberSearchMs: '5000', mdnsIntervalMs: '200' })?.memberSearchMs, 5_000);
  assert.equal(parseFormationOptions({ token, join: '10.0.0.1:7379' }), null);
  assert.equal(parseFormationOptions({ token, join: '10.0.0.1:7379', bootstrapExpect: '3' })?.bootstrapExpect, 3);
  assert.throws(() => parseFormationOptions({ token, join: '10.0.0.1:7379', memberSearchMs: '5000' }), /--member-search-ms only applies with --bootstrap-expect N or --token without --join/);
  assert.throws(() => parseFormationOptions({ token, memberSearchMs: '5' }), /--member-search-ms must be a whole number from 100/);
  assert.deepEqual(withFormationAddressDefaults({ token }, '192.168.1.7'), { token, peerAddr: '192.168.1.7:7380', clientAddr: '192.168.1.7:7379', apiAddr: '192.168.1.7:6443' });
  assert.deepEqual(withFormationAddressDefaults({ token, join: '10.0.0.1:7379' }, '192.168.1.7'), { token, join: '10.0.0.1:7379' });
});

test('bad formation flags are usage errors that say what to do', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ bootstrapExpect: '0' }, /--bootstrap-expect must be a whole number from 1 to 9, got "0"/],
    [{ bootstrapExpect: '10' }, /from 1 to 9/],
    [{ bootstrapExpect: 'three' }, /--bootstrap-expect must be a whole number/],
    [{ bootstrapExpect: '3', mdnsIntervalMs: '10' }, /--mdns-interval-ms must be a whole number from 50/],
    [{ bootstrapExpect: '3', voters: '-1' }, /--voters/],
    [{ voters: '3' }, /--voters only applies with --bootstrap-expect N/],
    [{ bootstrapSettleMs: '100' }, /--bootstrap-settle-ms only applies with --bootstrap-expect/],
    [{ bootstrapExpect: '3', initialCluster: 'a=10.0.0.1:7380' }, /--bootstrap-expect and --initial-cluster exclude each other/],
  ];
  for (const [flags, message] of cases) assert.throws(() => parseFormationOptions(flags), (error: Error) => error instanceof UsageError && message.test(error.message), JSON.stringify(flags));
});

test('with --bootstrap-expect, addresses not given default to the LAN address; given ones stay', () => {
  assert.deepEqual(withFormationAddressDefaults({ bootstrapExpect: '3' }, '192.168.1.7'), { bootstrapExpect: '3', peerAddr: '192.168.1.7:7380', clientAddr: '192.168.1.7:7379', apiAddr: '192.168.1.7:6443' });
  assert.deepEqual(withFormationAddressDefaults({ bootstrapExpect: '3', apiAddr: 'off' }, '192.168.1.7').apiAddr, 'off');
  assert.deepEqual(withFormationAddressDefaults<RawUpFlags>({ name: 'a' }, '192.168.1.7'), { name: 'a' });
});
