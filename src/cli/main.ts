import { Command, CommanderError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { findClusterCredentials, storeClientTls } from '../identity/tls.ts';
import type { StoreClientTls } from '../store/wire.ts';
import { buildInfo } from './build-info.ts';
import { writeClusterBundle } from '../node/cluster-bundle.ts';
import { clusterRemove } from './cluster-remove.ts';
import { clusterStatus } from './cluster-status.ts';
import { registerKubeCommands } from './kube/verbs.ts';
import { registerKubeconfigCommand } from './kubeconfig-cmd.ts';
import { registerTokenCommand } from './token.ts';
import { defaultApiPort, defaultClientPort, defaultPeerPort, parseUpOptions, type RawUpFlags } from './up-options.ts';
import { DEFAULT_FAIRNESS } from '../api/fairness.ts';
import { formatStructured, parseOutputFormat, UsageError } from './output.ts';

export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** TLS for the client port from --bundle or a data dir; none for a data dir from before bundles (plain HTTP). */
function clientCredentials(flags: { dataDir?: string; bundle?: string }): StoreClientTls | undefined {
  const dir = flags.bundle ?? parseUpOptions({ dataDir: flags.dataDir ?? process.env['BRAMBLE_DATA_DIR'] }, { hostname: hostname() }).dataDir;
  const credentials = existsSync(dir) ? findClusterCredentials(dir) : null;
  if (!credentials && flags.bundle !== undefined) throw new UsageError(`--bundle ${flags.bundle} holds no cluster credentials (ca.crt with admin.crt/admin.key); give the directory \`bramble cluster init\` made`);
  return credentials ? storeClientTls(credentials) : undefined;
}

function buildProgram(io: Io): Command {
  const program = new Command('bramble')
    .description(
      'Bramble: a container orchestrator for Raspberry Pi fleets that speaks the Kubernetes API.\n' +
        'Every board runs `bramble up`; you drive the cluster with `bramble` or with kubectl.',
    )
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run `bramble --help` to see the commands and their options)')
    // `bramble token --data-dir` (the join token) and `bramble token create --data-dir` are two options.
    .enablePositionalOptions()
    .exitOverride();

  program
    .command('version')
    .description('print the Bramble version, git commit, Node.js version, CPU architecture and whether this is the single executable')
    .addOption(new Option('-o, --output <format>', 'print as json or yaml').argParser(parseOutputFormat))
    .action((options: { output?: ReturnType<typeof parseOutputFormat> }) => {
      const info = buildInfo();
      if (options.output) {
        io.out(formatStructured(info, options.output));
        return;
      }
      io.out(
        `bramble ${info.version}\n` +
          `git commit: ${info.gitCommit}\n` +
          `node: ${info.nodeVersion}\n` +
          `platform: ${info.platform}/${info.arch}\n` +
          `single executable: ${info.singleExecutable ? 'yes' : 'no'}\n`,
      );
    });

  program
    .command('up')
    .description('run a Bramble node on this machine: the Raft group that holds the cluster state, and its client API')
    .option('--name <name>', 'node name, unique in the cluster (default: this host name)')
    .option('--data-dir <dir>', 'where the Raft log and the store live (default: .bramble/<name>)')
    .option('--peer-addr <host:port>', `address other nodes reach this one at (default: 127.0.0.1:${defaultPeerPort})`)
    .option('--client-addr <host:port>', `address of the client API (default: 127.0.0.1:${defaultClientPort})`)
    .option('--api-addr <host:port>', `address of the Kubernetes API, HTTPS, or "off" for a store-only node (default: 127.0.0.1:${defaultApiPort})`)
    .option('--initial-cluster <list>', 'bootstrap a new cluster: name=host:port of every first member, comma-separated')
    .option('--join <host:port>', 'join a running cluster through the client address of any member (added as a learner, promoted once caught up)')
    .option('--cluster-cidr <cidr>', 'the IPv4 range the Raft leader gives each board a /24 pod subnet from (at most 2^(24-prefix) boards) (default: 10.42.0.0/16)')
    .option('--service-cidr <cidr>', 'the IPv4 range Services get their cluster IP from; its 1st address is the kubernetes Service, its 10th the cluster DNS (a /12 to a /28, apart from --cluster-cidr) (default: 10.43.0.0/16)')
    .option('--pod-network <mode>', 'host-gw: pods get addresses from this board\'s pod subnet (a /24 of --cluster-cidr) and reach the other boards\' pods through routes via their LAN addresses; needs root, iptables on the backend Docker uses, IP forwarding, and all boards on one LAN subnet (the Node\'s NetworkUnavailable condition says what is missing). off: pods on the engine\'s default bridge, no pod traffic between boards (default: host-gw with --runtime docker, off with --runtime none)')
    .option('--node-grace-ms <ms>', 'the Raft leader marks a board it has not heard from for this long unreachable and moves its pods to other boards (default: 4000)')
    .option('--api-user-qps <n>', `requests per second each API user may send, sustained; more get 429 with Retry-After (the nodes and the admin have their own, larger allowance: ${DEFAULT_FAIRNESS.system.qps}/s) (default: ${DEFAULT_FAIRNESS.user.qps})`)
    .option('--api-user-burst <n>', `requests an API user may send at once above that rate (default: ${DEFAULT_FAIRNESS.user.burst})`)
    .option('--api-user-max-inflight <n>', `requests of one API user served at once; a watch, log or exec counts only while it starts (default: ${DEFAULT_FAIRNESS.user.maxInflight}; all users together: ${DEFAULT_FAIRNESS.usersMaxInflight})`)
    .option('--compact-interval-ms <ms>', 'the Raft leader drops store history older than this, once per interval; a watch can resume from anything newer (default: 300000, as the Kubernetes API server)')
    .option('--bundle <dir>', 'the cluster bundle from `bramble cluster init` (CA, token, Secret keys); copied into the data dir at first start')
    .option('--token <token>', 'join with only the join token (BRAMBLE-1-...; `bramble token` prints it): finds a member of its cluster by mDNS, or asks the one given with --join')
    .option('--tick-ms <ms>', 'Raft tick interval in milliseconds (default: 100)')
    .option('--election-ticks <n>', 'ticks without a leader before an election (default: 10)')
    .option('--heartbeat-ticks <n>', 'ticks between leader heartbeats (default: 1)')
    .option('--snapshot-entries <n>', 'applied entries between snapshots of the store; the log is compacted after each (default: 10000)')
    .option('--snapshot-inline-bytes <n>', 'larger snapshots are pulled by the follower in resumable pieces (default: 1048576)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default: info)')
    .option('--runtime <docker|none>', 'container runtime of the node agent: docker runs the pods bound to this node, none runs no pods (default: docker)')
    .option('--host-root <dir>', 'where the agent reads /proc, /sys and /etc from, for the Node object (default: /)')
    .option('--node-status-ms <ms>', 'how often the agent checks the node\'s conditions; the Node is written only when one changes (default: 10000)')
    .option('--bootstrap-expect <n>', 'zero-config: boards with the same --bundle find each other by mDNS; once n of them see each other the n lowest node ids form the cluster, the rest join as learners (addresses default to this board\'s LAN address)')
    .option('--bootstrap-settle-ms <ms>', 'with --bootstrap-expect: how long the set of boards in sight must stay the same before forming (default: 5000)')
    .option('--mdns-interval-ms <ms>', 'with --bootstrap-expect: mDNS announcement interval while forming, four times longer once a member (default: 1000)')
    .option('--voters <n>', 'with --bootstrap-expect: autopilot keeps this many voters (default: 3, or 5 when five healthy nodes exist)')
    .option('--autopilot-stable-ms <ms>', 'with --bootstrap-expect: a learner must be healthy this long before promotion (default: 10000)')
    .option('--autopilot-dead-ms <ms>', 'with --bootstrap-expect: a voter silent this long is replaced by a healthy learner (default: 30000)')
    .option('--autopilot-remove-dead-ms <ms>', 'with --bootstrap-expect: a learner silent this long is removed from the cluster; a removed board must join again with an empty data dir; 0 never removes (default: 3600000)')
    .option('--member-search-ms <ms>', 'with --token and no --join: how long to look for a member by mDNS before giving up (default: 120000)')
    .addHelpText(
      'after',
      `
Examples:
  bramble up                                   one node, a cluster of its own (what npm start runs;
                                               its bundle is made in <data-dir>/bundle)
  bramble cluster init --out cluster           once, then copy ./cluster to the first boards
  bramble up --name a --peer-addr 10.0.0.1:7380 --client-addr 10.0.0.1:7379 --bundle cluster \
             --initial-cluster a=10.0.0.1:7380,b=10.0.0.2:7380,c=10.0.0.3:7380
  bramble up --token BRAMBLE-1-...              a later board with only the token: finds a member of the
                                               token's cluster by mDNS, checks it serves the token's CA,
                                               fetches its credentials and joins as a learner
  bramble up --name d --peer-addr 10.0.0.4:7380 --client-addr 10.0.0.4:7379 \
             --token BRAMBLE-1-... --join 10.0.0.1:7379
  bramble up --bundle cluster --bootstrap-expect 3
                                               on every board: they find each other by mDNS, three form the
                                               cluster, the others join; add --join <host>:7379 where
                                               multicast is blocked (that host is then reached by unicast)

Every flag can also come from the environment as BRAMBLE_<FLAG> (BRAMBLE_DATA_DIR, BRAMBLE_API_ADDR, ...);
a flag on the command line wins. The admin kubeconfig is written to <data-dir>/kubeconfig:
  kubectl --kubeconfig .bramble/<name>/kubeconfig get nodes
Restarting a node with the same --data-dir resumes it: membership then comes from its log.
Stop with Ctrl-C (SIGINT) or SIGTERM.`,
    )
    .action(async (flags: RawUpFlags) => {
      // Loaded only for `up`: the node's assembly is most of the program, and every other verb
      // (kube verbs, token, cluster status) would otherwise pay for loading it at each run.
      const { runUp } = await import('./up.ts');
      await runUp(flags);
    });

  const cluster = program.command('cluster').description('create a cluster bundle, look at the Raft group that holds the cluster state');
  cluster
    .command('init')
    .description('create the cluster bundle: CA, cluster id, join token, Secret encryption key, admin kubeconfig')
    .requiredOption('--out <dir>', 'directory to create the bundle in (must not hold one already)')
    .option('--server <url>', 'API address the admin kubeconfig points at', `https://127.0.0.1:${defaultApiPort}`)
    .addHelpText(
      'after',
      `
Then copy the directory to the first boards and start each with --bundle DIR; later boards need
only the token:
  bramble cluster init --out cluster --server https://10.0.0.1:6443
  bramble up --bundle cluster --name a ...           on the first boards
  bramble up --token "$(cat cluster/token)" --name d ...   a later board: finds a member by mDNS
                                                         (add --join 10.0.0.1:7379 where multicast is blocked)
  kubectl --kubeconfig cluster/kubeconfig get nodes
The bundle holds the CA key and the token: keep it like a password.`,
    )
    .action(async (flags: { out: string; server: string }) => {
      const created = await writeClusterBundle(flags.out, flags.server);
      io.out(`${created.token}\n`);
      io.err(`cluster ${created.clusterId}: bundle written to ${created.dir} (admin kubeconfig: ${created.kubeconfigPath})\n  first boards: bramble up --bundle ${created.dir} ...\n  later boards: bramble up --token <the token above> ... (finds a member by mDNS; add --join <member>:7379 where multicast is blocked)\n`);
    });
  cluster
    .command('status')
    .description('members, roles, term, commit and applied index, leader')
    .option('--endpoints <list>', `client addresses of members, comma-separated (default: 127.0.0.1:${defaultClientPort})`)
    .option('--data-dir <dir>', 'a member\'s data dir, for its credentials (default: $BRAMBLE_DATA_DIR, else .bramble/<hostname>)')
    .option('--bundle <dir>', 'use the admin credentials of this cluster bundle instead')
    .addOption(new Option('-o, --output <format>', 'print as json or yaml').argParser(parseOutputFormat))
    .action(async (flags: { endpoints?: string; dataDir?: string; bundle?: string; output?: ReturnType<typeof parseOutputFormat> }) => {
      const endpoints = (flags.endpoints ?? `127.0.0.1:${defaultClientPort}`).split(',').map((item) => item.trim()).filter(Boolean);
      io.out(await clusterStatus(endpoints, flags.output, clientCredentials(flags)));
    });

  cluster
    .command('remove')
    .description('take a member out of the Raft group for good (a board that is gone); a running board that is removed must rejoin with an empty data dir')
    .argument('<name>', 'the member\'s node name (as `bramble cluster status` lists it)')
    .option('--endpoints <list>', `client addresses of members, comma-separated (default: 127.0.0.1:${defaultClientPort})`)
    .option('--data-dir <dir>', 'a member\'s data dir, for its credentials (default: $BRAMBLE_DATA_DIR, else .bramble/<hostname>)')
    .option('--bundle <dir>', 'use the admin credentials of this cluster bundle instead')
    .action(async (name: string, flags: { endpoints?: string; dataDir?: string; bundle?: string }) => {
      const endpoints = (flags.endpoints ?? `127.0.0.1:${defaultClientPort}`).split(',').map((item) => item.trim()).filter(Boolean);
      io.out(await clusterRemove(name, endpoints, clientCredentials(flags)));
    });

  registerTokenCommand(program, io);
  registerKubeCommands(program, io);
  registerKubeconfigCommand(program, io);

  return program;
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message; help and version requests are not failures.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') {
        return exitCodes.ok;
      }
      return exitCodes.usage;
    }
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n`);
      return exitCodes.usage;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodes.failure;
  }
}
