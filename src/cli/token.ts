// `bramble token`: the cluster join token. `bramble token create|list|revoke`: bearer tokens for more users (a classroom: one per
// student), kept in the node's data dir in Kubernetes' token-file format. A running node re-reads
// the file within a second; the rights come from RBAC, so the help shows the binding to create.

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { addTokenUser, ensureAuthFiles, listTokenUsers, removeTokenUser } from '../api/auth/authn.ts';
import { isBundle, readBundle } from '../identity/bundle.ts';
import { formatStructured, parseOutputFormat, UsageError } from './output.ts';
import { nodeBundleDir } from '../node/identity.ts';
import type { OutputFormat } from './output.ts';
import { parseUpOptions } from './up-options.ts';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const DATA_DIR_HELP = 'data dir of the node whose API takes the token (default: $BRAMBLE_DATA_DIR, else what bramble up uses: .bramble/<hostname>)';

function tokenFilePath(dataDirFlag: string | undefined): string {
  const dataDir = parseUpOptions({ dataDir: dataDirFlag ?? process.env['BRAMBLE_DATA_DIR'] }, { hostname: hostname() }).dataDir;
  if (!existsSync(dataDir)) throw new UsageError(`no Bramble node data in ${dataDir}: pass the --data-dir of a node (the one given to bramble up)`);
  return ensureAuthFiles(dataDir).tokenFilePath;
}

function validUserName(name: string, what: string): string {
  if (name.trim() === '' || /[\r\n]/.test(name)) throw new UsageError(`${what} ${JSON.stringify(name)} must be non-empty and on one line`);
  return name;
}

const collect = (value: string, previous: string[]): string[] => [...previous, validUserName(value, 'group')];

/** The cluster join token, from a bundle dir or a node's data dir. */
function joinToken(flags: { dataDir?: string; bundle?: string }): { token: string; from: string } {
  if (flags.bundle !== undefined) {
    try {
      return { token: readBundle(flags.bundle).token, from: flags.bundle };
    } catch (error) {
      throw new UsageError(`--bundle: ${(error as Error).message}`);
    }
  }
  const dataDir = parseUpOptions({ dataDir: flags.dataDir ?? process.env['BRAMBLE_DATA_DIR'] }, { hostname: hostname() }).dataDir;
  if (!existsSync(dataDir)) throw new UsageError(`no Bramble node data in ${dataDir}: pass the --data-dir of a node (the one given to bramble up) or --bundle DIR`);
  const dir = nodeBundleDir(dataDir);
  if (!isBundle(dir)) throw new UsageError(`${dataDir} has no cluster bundle (the node was made before bundles existed, or never started): create a cluster with \`bramble cluster init --out DIR\``);
  return { token: readBundle(dir).token, from: dir };
}

export function registerTokenCommand(program: Command, io: Io): void {
  const token = program
    .command('token')
    .description('the cluster join token (bare `bramble token`), and bearer tokens for users of the API (create, list, revoke)')
    .enablePositionalOptions()
    .option('--data-dir <dir>', 'data dir of a member whose join token to print (default: $BRAMBLE_DATA_DIR, else .bramble/<hostname>)')
    .option('--bundle <dir>', 'print the join token of this cluster bundle instead')
    .addHelpText(
      'after',
      `
The join token (BRAMBLE-1-<CA fingerprint>-<secret>) lets a new board join with nothing else:
  bramble up --name pi4 --token "$(bramble token)" --join 10.0.0.1:7379
Keep it secret: whoever has it can join the cluster and read its Secrets.`,
    )
    .action((flags: { dataDir?: string; bundle?: string }) => {
      const found = joinToken(flags);
      io.out(`${found.token}\n`);
      io.err(`join token of the cluster in ${found.from}; a board joins with: bramble up --token <token> --join <client address of a member>\n`);
    });

  token
    .command('create')
    .description('make a token for USER and print it; give the user rights with RBAC')
    .argument('<user>', 'user name, as RBAC bindings name it')
    .option('--group <group>', 'a group of the user (repeat for several)', collect, [])
    .option('--uid <uid>', 'a stable id of the user')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .addHelpText(
      'after',
      `
Examples:
  bramble token create student1 --group students --data-dir /var/lib/bramble
  TOKEN=$(bramble token create student1)
  kubectl create namespace student1
  kubectl create rolebinding student1-edit --clusterrole=edit --user=student1 -n student1
  kubectl --server https://127.0.0.1:6443 --token "$TOKEN" --certificate-authority ca.crt -n student1 get pods

The token is printed once on stdout; running nodes accept it within a second.`,
    )
    .action((user: string, flags: { group: string[]; uid?: string; dataDir?: string }) => {
      const path = tokenFilePath(flags.dataDir);
      const info = { username: validUserName(user, 'user name'), groups: flags.group, ...(flags.uid === undefined ? {} : { uid: validUserName(flags.uid, 'uid') }) };
      io.out(`${addTokenUser(path, info)}\n`);
      io.err(`token for user "${user}" added to ${path}; it has no rights until an RBAC binding names it (see bramble token create --help)\n`);
    });

  token
    .command('list')
    .description('list the users that have tokens (never the tokens)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('-o, --output <format>', 'print as json or yaml', parseOutputFormat)
    .action((flags: { dataDir?: string; output?: OutputFormat }) => {
      const users = listTokenUsers(tokenFilePath(flags.dataDir));
      if (flags.output !== undefined) {
        io.out(formatStructured(users, flags.output));
        return;
      }
      const rows = [['USER', 'UID', 'GROUPS'], ...users.map((u) => [u.username, u.uid ?? '<none>', u.groups.length === 0 ? '<none>' : u.groups.join(',')])];
      const widths = [0, 1].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
      io.out(rows.map((r) => `${(r[0] ?? '').padEnd((widths[0] ?? 0) + 3)}${(r[1] ?? '').padEnd((widths[1] ?? 0) + 3)}${r[2] ?? ''}`.trimEnd()).join('\n') + '\n');
    });

  token
    .command('revoke')
    .description("delete every token of USER (the user's RBAC bindings stay)")
    .argument('<user>', 'user name')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .addHelpText('after', '\nExample:\n  bramble token revoke student1 --data-dir /var/lib/bramble\n')
    .action((user: string, flags: { dataDir?: string }) => {
      const removed = removeTokenUser(tokenFilePath(flags.dataDir), user);
      if (removed === 0) throw new Error(`user "${user}" has no token (bramble token list shows who has one)`);
      io.out(`revoked ${removed} token(s) of user "${user}"\n`);
    });
}
