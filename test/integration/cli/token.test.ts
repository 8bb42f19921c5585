// `bramble token` run as a real process against a data dir, and the tokens it writes accepted by
// the authenticator a node runs (reading the same file, re-read on change).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createAuthenticator, ensureAuthFiles } from '../../../src/api/auth/authn.ts';
import { bramble, type CommandRun } from '../../lib/commands.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-token-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The CLI run from the scratch directory, so nothing it writes lands in the repository. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<CommandRun> => bramble(args, { cwd: tmp, env, timeoutMs: 60_000 });

function bearer(token: string): IncomingMessage {
  return { headers: { authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage;
}

describe('bramble token', { timeout: 180_000 }, () => {
  const dataDir = join(tmp, 'node-a');
  mkdirSync(dataDir);

  test('create prints a token that the node authenticates (file re-read), list shows users not tokens, revoke removes it', async () => {
    const files = ensureAuthFiles(dataDir);
    const authn = createAuthenticator({ adminToken: files.adminToken, tokenFile: files.tokenFilePath, tokenFileOptions: { recheckIntervalMs: 0 } });

    const created = await cli(['token', 'create', 'student1', '--group', 'students', '--group', 'class-a', '--data-dir', dataDir]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.match(created.stderr, /no rights until an RBAC binding names it/);
    assert.deepEqual(await authn.authenticate(bearer(token)), { username: 'student1', groups: ['students', 'class-a', 'system:authenticated'] });
    assert.equal(statSync(files.tokenFilePath).mode & 0o777, 0o600);

    const viaEnv = await cli(['token', 'create', 'student2', '--uid', '42'], { BRAMBLE_DATA_DIR: dataDir });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);

    const listed = await cli(['token', 'list', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.split('\n').map((l) => l.split(/\s+/).filter(Boolean)), [['USER', 'UID', 'GROUPS'], ['student1', '<none>', 'students,class-a'], ['student2', '42', '<none>'], []]);
    assert.ok(!listed.stdout.includes(token), 'list never prints tokens');
    assert.ok(!readFileSync(files.tokenFilePath, 'utf8').includes(files.adminToken), 'the admin token lives in its own file');

    const json = await cli(['token', 'list', '--data-dir', dataDir, '-o', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), [
      { username: 'student1', groups: ['students', 'class-a'] },
      { username: 'student2', uid: '42', groups: [] },
    ]);

    const revoked = await cli(['token', 'revoke', 'student1', '--data-dir', dataDir]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, 'revoked 1 token(s) of user "student1"\n');
    assert.equal(await authn.authenticate(bearer(token)), null);
    assert.match(readFileSync(files.tokenFilePath, 'utf8'), /^# Bramble bearer tokens/, 'comments kept');
  });

  test('mistakes: a missing data dir, an unknown user to revoke, an empty name — each says what to do', async () => {
    const missing = await cli(['token', 'create', 'x', '--data-dir', join(tmp, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no Bramble node data in .*nope: pass the --data-dir of a node/);
    const unknown = await cli(['token', 'revoke', 'ghost', '--data-dir', dataDir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /user "ghost" has no token \(bramble token list shows who has one\)/);
    const empty = await cli(['token', 'create', ' ', '--data-dir', dataDir]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /user name " " must be non-empty/);
  });

  test('--help teaches with examples', async () => {
    const help = await cli(['token', 'create', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /kubectl create rolebinding student1-edit --clusterrole=edit --user=student1 -n student1/);
  });
});
