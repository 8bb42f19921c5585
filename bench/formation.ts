// npm run bench:formation -- [--trials 3] [--settle-ms 5000] [--mdns-interval-ms 1000]
// Zero-config formation time: N `bramble up --bootstrap-expect E` processes, one per network
// namespace on a bridge, all spawned at the same instant ("power on"), until every one of them
// is a member of one Raft configuration with a leader. After each 3-node formation, one more
// board with only the join token (`bramble up --token T`, no bundle, no --join) is timed until it
// is a learner. Prints one JSON object per trial and a table per shape. Figures only: never fails
// on a number.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { readBundle } from '../src/identity/bundle.ts';
import { promisify } from 'node:util';
import { clusterView, startFormingNodes } from '../test/lib/formation.ts';
import { withNetnsLab } from '../test/lib/netns.ts';
import { parseBenchFlags } from './lib/args.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, round, summarize } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:formation --', 'Power-on to one formed cluster (every node a member, one leader), 3 and 5 boards in network namespaces.', [
  { name: 'trials', description: 'formations per shape', defaultValue: 3, min: 1, max: 50 },
  { name: 'settle-ms', description: '--bootstrap-settle-ms of every node (bramble up default 5000)', defaultValue: 5_000, min: 0, max: 60_000 },
  { name: 'mdns-interval-ms', description: '--mdns-interval-ms of every node (bramble up default 1000)', defaultValue: 1_000, min: 50, max: 10_000 },
  { name: 'node-ready', description: '1: also run the Kubernetes API and the agent (Docker) and time until kubectl shows every Node Ready', defaultValue: 1, min: 0, max: 1 },
], [
  'npm run bench:formation                                # default timers, 3 trials per shape (~2 min)',
  'npm run bench:formation -- --settle-ms 800 --mdns-interval-ms 200   # the test suite\'s fast formation',
]);

const shapes = [
  { nodes: 3, expect: 3 },
  { nodes: 5, expect: 3 },
  { nodes: 5, expect: 5 },
];
const limitMs = 120_000;

interface Trial {
  bench: 'formation';
  nodes: number;
  expect: number;
  trial: number;
  /** Spawn to the last node's first mDNS announcement: process start (tsx compiling the sources here). */
  lastNodeStartedMs: number;
  /** Spawn to every node reporting `bramble node ready` (bootstrapped or joined). */
  allReadyMs: number;
  /** Spawn to every node in one configuration with one leader, seen over their client ports. */
  formedMs: number;
  /** Spawn to `kubectl get nodes` listing every node Ready (with --node-ready 1), else null. */
  nodesReadyMs: number | null;
  voters: number;
  learners: number;
  /** 3-node shapes: a board with only the token, spawned once the cluster formed. */
  tokenJoin: TokenJoin | null;
}

interface TokenJoin {
  /** Spawn to its first mDNS query ("looking for a member"): process start. */
  startedMs: number;
  /** First query to credentials received from a member found by mDNS (includes one announce interval of gathering). */
  searchMs: number;
  /** Spawn to being a learner in every member's configuration. */
  learnerMs: number;
}

function logTime(lines: string[], pattern: RegExp): number | null {
  for (const line of lines) {
    if (!pattern.test(line)) continue;
    try {
      return (JSON.parse(line) as { time: number }).time;
    } catch {
      return null;
    }
  }
  return null;
}

const execFileAsync = promisify(execFile);

/** Polls real kubectl until `count` Nodes are Ready; returns when (epoch ms). */
async function allNodesReady(kubeconfig: string, ip: string, count: number, sinceMs: number): Promise<number> {
  for (;;) {
    const { stdout } = await execFileAsync('kubectl', ['--kubeconfig', kubeconfig, '--server', `https://${ip}:6443`, 'get', 'nodes', '-o', 'json', '--request-timeout', '5s'], { encoding: 'utf8' }).catch(() => ({ stdout: '' }));
    if (stdout) {
      const items = (JSON.parse(stdout) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }).items;
      if (items.filter((item) => item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === count) return Date.now();
    }
    if (Date.now() - sinceMs > limitMs) throw new Error(`not every Node Ready within ${limitMs} ms`);
    await sleep(100);
  }
}

console.log(machineLine());
console.log(`timers: --bootstrap-settle-ms ${flags['settle-ms']} --mdns-interval-ms ${flags['mdns-interval-ms']}, Raft tick 100 ms, election 10 ticks (bramble up defaults)`);
const results: Trial[] = [];
await withNetnsLab(5, async (lab) => {
  for (const shape of shapes) {
    for (let trial = 1; trial <= flags.trials!; trial++) {
      const result = await withCluster(`${shape.nodes} nodes, expect ${shape.expect}, trial ${trial}`, async (group) => {
        const extra = ['--bootstrap-settle-ms', String(flags['settle-ms']), '--mdns-interval-ms', String(flags['mdns-interval-ms']), '--tick-ms', '100', '--election-ticks', '10'];
        const kube = (index: number) => (flags['node-ready'] ? ['--api-addr', `${lab.host(index).ip}:6443`, '--runtime', 'docker', '--pod-network', 'off', '--node-status-ms', '500'] : []);
        const poweredOnMs = Date.now();
        const nodes = await startFormingNodes(group, lab, { expect: shape.expect, count: shape.nodes, extraArgs: (index) => [...extra, ...kube(index)] });
        await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, limitMs)));
        const allReadyMs = Date.now() - poweredOnMs;
        for (;;) {
          const view = await clusterView(nodes);
          if (view && view.configurations === 1 && view.leaders.length === 1 && view.voters.length + view.learners.length === shape.nodes) {
            const started = nodes.map((node) => logTime(node.process.log, /looking for the other boards/) ?? Number.NaN);
            const formedMs = Date.now() - poweredOnMs;
            const nodesReadyMs = flags['node-ready'] ? (await allNodesReady(join(nodes[0]!.bundleDir, 'kubeconfig'), lab.host(0).ip, shape.nodes, poweredOnMs)) - poweredOnMs : null;
            let tokenJoin: TokenJoin | null = null;
            if (shape.nodes === 3) {
              // A later board with nothing but the token, on the first free namespace.
              const host = lab.host(3);
              const spawnedMs = Date.now();
              const board = await group.spawn('token4', {
                args: ({ dataDir }) => ['up', '--name', 'token4', '--data-dir', dataDir, '--peer-addr', `${host.ip}:7380`, '--client-addr', `${host.ip}:7379`, '--token', readBundle(nodes[0]!.bundleDir).token, ...extra, '--api-addr', 'off', '--runtime', 'none', '--log-level', 'info'],
                netns: host.netns,
              });
              await board.waitForLog(/bramble node ready/, limitMs);
              for (;;) {
                const seen = await clusterView(nodes);
                if (seen && seen.configurations === 1 && seen.learners.includes('token4')) break;
                if (Date.now() - spawnedMs > limitMs) throw new Error(`token4 not a learner within ${limitMs} ms`);
                await sleep(20);
              }
              const learnerMs = Date.now() - spawnedMs;
              const searching = logTime(board.log, /looking for a member of the token's cluster/) ?? Number.NaN;
              const received = logTime(board.log, /received this node's credentials/) ?? Number.NaN;
              tokenJoin = { startedMs: searching - spawnedMs, searchMs: received - searching, learnerMs };
            }
            const row: Trial = {
              bench: 'formation', nodes: shape.nodes, expect: shape.expect, trial,
              lastNodeStartedMs: Math.max(...started) - poweredOnMs, allReadyMs, formedMs, nodesReadyMs, voters: view.voters.length, learners: view.learners.length, tokenJoin,
            };
            return row;
          }
          if (Date.now() - poweredOnMs > limitMs) throw new Error(`not formed within ${limitMs} ms`);
          await sleep(20);
        }
      });
      if (result) {
        console.log(JSON.stringify(result));
        results.push(result);
      }
    }
  }
});

const rows = shapes.map((shape) => {
  const trials = results.filter((row) => row.nodes === shape.nodes && row.expect === shape.expect);
  const formed = summarize(trials.map((row) => row.formedMs));
  const started = summarize(trials.map((row) => row.lastNodeStartedMs));
  const ready = summarize(trials.flatMap((row) => (row.nodesReadyMs === null ? [] : [row.nodesReadyMs])));
  return [`${shape.nodes} nodes, --bootstrap-expect ${shape.expect}`, trials.length, round(started.p50Ms), round(formed.p50Ms), round(formed.maxMs), round(formed.p50Ms - started.p50Ms), ready.count ? round(ready.p50Ms) : '-', ready.count ? round(ready.maxMs) : '-'];
});
console.log(`\n${formatTable(['shape', 'trials', 'all started p50 ms', 'formed p50 ms', 'formed max ms', 'formed - started p50 ms', 'Nodes Ready p50 ms', 'Nodes Ready max ms'], rows)}`);
console.log('formed = power-on (spawn) to every node a member of one configuration with a leader; "all started" is when the last process began announcing, so formed - started is discovery + agreement + Raft join; Nodes Ready = power-on to real kubectl listing every Node Ready.');
const tokenRows = results.flatMap((row) => (row.tokenJoin ? [row.tokenJoin] : []));
if (tokenRows.length > 0) {
  const line = (label: string, pick: (row: TokenJoin) => number) => {
    const stats = summarize(tokenRows.map(pick));
    return [label, tokenRows.length, round(stats.p50Ms), round(stats.maxMs)];
  };
  const rowsOut = [
    line('spawn to first mDNS query (process start)', (row) => row.startedMs),
    line('first query to credentials from a member', (row) => row.searchMs),
    line('spawn to learner in every configuration', (row) => row.learnerMs),
  ];
  console.log(`\nA fourth board with only the token (bramble up --token T, no bundle, no --join), after each 3-node formation:\n${formatTable(['step', 'trials', 'p50 ms', 'max ms'], rowsOut)}`);
}
