// The systemd unit (firmware-scripts/bramble.service) passes every setting as BRAMBLE_<FLAG> from
// /etc/bramble/env: each flag `bramble up --help` lists must have its variable, and the command
// line must win over it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main } from '../../../src/cli/main.ts';
import { withEnvFlags, type RawUpFlags } from '../../../src/cli/up-options.ts';

async function upFlags(): Promise<string[]> {
  let help = '';
  const code = await main(['node', 'bramble', 'up', '--help'], { out: (text) => (help += text), err: () => undefined });
  assert.equal(code, 0);
  const flags = [...help.matchAll(/^\s+--([a-z][a-z-]*)\b/gm)].map((match) => match[1]!).filter((flag) => flag !== 'help');
  return [...new Set(flags)];
}

const camel = (flag: string): keyof RawUpFlags => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof RawUpFlags;
const envName = (flag: string): string => `BRAMBLE_${flag.replace(/-/g, '_').toUpperCase()}`;

describe('bramble up: every flag from BRAMBLE_<FLAG>', () => {
  test('each flag in `bramble up --help` is read from its variable', async () => {
    const flags = await upFlags();
    assert.ok(flags.length >= 30, `expected the full flag list, got ${flags.join(' ')}`);
    for (const flag of flags) {
      const merged = withEnvFlags({}, { [envName(flag)]: 'from-env' });
      assert.equal(merged[camel(flag)], 'from-env', `--${flag} has no ${envName(flag)}`);
    }
  });

  test('the command line wins; an empty variable counts as unset', () => {
    const merged = withEnvFlags({ dataDir: '/srv/bramble' }, { BRAMBLE_DATA_DIR: '/var/lib/bramble', BRAMBLE_LOG_LEVEL: '', BRAMBLE_BOOTSTRAP_EXPECT: '3' });
    assert.equal(merged.dataDir, '/srv/bramble');
    assert.equal(merged.logLevel, undefined);
    assert.equal(merged.bootstrapExpect, '3');
  });
});
