// npm run bench:failover -- [--trials 20] [--heartbeat-ms 100] [--election-ms 1000] [--load-clients 4]
// For Bramble and for etcd (3 members each, one system at a time): under a steady write load,
// kill -9 the leader and time how long until a write sent after the kill is committed by a new
// leader; restart the killed member, let it rejoin, repeat. Prints one JSON object per trial and
// a table (p50, p90, p99, max). Figures only: never fails on a number.
import { parseBenchFlags } from './lib/args.ts';
import { type BenchCluster, type BenchMember, type RaftTimers, type SystemName, startSystem } from './lib/clusters.ts';
import { benchKey, benchValue } from './lib/load.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, round, summarize } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:failover --', 'Bramble vs etcd, 3 members each: time from kill -9 of the leader until a new leader commits a write.', [
  { name: 'trials', description: 'leader kills per system', defaultValue: 20, min: 1, max: 200 },
  { name: 'heartbeat-ms', description: 'Raft heartbeat interval for both systems', defaultValue: 100, min: 10, max: 1_000 },
  { name: 'election-ms', description: 'Raft election timeout for both systems', defaultValue: 1_000, min: 50, max: 10_000 },
  { name: 'load-clients', description: 'closed-loop writers running through each kill', defaultValue: 4, min: 0, max: 64 },
], [
  'npm run bench:failover                                  # 20 kills per system, 3 to 5 minutes',
  'npm run bench:failover -- --trials 5                    # a quick look',
  'npm run bench:failover -- --heartbeat-ms 20 --election-ms 200   # fast timers for both',
]);
const timers: RaftTimers = { heartbeatMs: flags['heartbeat-ms']!, electionMs: flags['election-ms']! };
const systems: SystemName[] = ['bramble', 'etcd'];
/** A new probe write every this many ms after the kill: the resolution of the measurement. */
const probeIntervalMs = 20;
const probeTimeoutMs = 3_000;
/** Give up on a trial after this long without a committed write (bounded loop). */
const trialLimitMs = 20_000;

interface Trial {
  bench: 'failover';
  system: SystemName;
  trial: number;
  killed: string;
  newLeader: string;
  /** From the SIGKILL to the answer of the first write, sent after it, that a new leader committed. */
  failoverMs: number | null;
  /** New leader's term minus the killed one's: 1 is a clean election, more means split votes or pre-vote rounds that failed. */
  termsUsed: number | null;
  loadWritesDuringTrial: number;
  rejoinMs: number;
}

/** Keeps `count` writers busy through every member until stopped; returns how many writes succeeded. */
function startLoad(cluster: BenchCluster, count: number): { stop: () => Promise<number> } {
  const client = cluster.client(cluster.members, 2_000);
  let running = true;
  let written = 0;
  const workers = Array.from({ length: count }, async (_, worker) => {
    for (let sequence = 0; running; sequence++) {
      try {
        await client.put(benchKey(worker * 100_000 + (sequence % 100_000)), benchValue);
        written++;
      } catch {
        await sleep(10);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      client.close();
      return written;
    },
  };
}

/**
 * Sends a write every probeIntervalMs to the survivors in turn, from the kill on, and resolves
 * with the time (since killedAtMs) of the first one answered as committed; null if none within
 * trialLimitMs. Waits for every outstanding probe before returning, so no client is left open.
 */
async function firstCommitAfter(cluster: BenchCluster, survivors: readonly BenchMember[], killedAtMs: number, trial: number): Promise<number | null> {
  // Enough connections that no probe queues behind the ones stuck on the dead leader.
  const clients = survivors.map((member) => cluster.client([member], probeTimeoutMs, Math.ceil(probeTimeoutMs / probeIntervalMs) + 16));
  const outstanding: Promise<void>[] = [];
  let firstMs: number | null = null;
  try {
    for (let probe = 0; firstMs === null && performance.now() - killedAtMs < trialLimitMs; probe++) {
      const client = clients[probe % clients.length]!;
      outstanding.push(
        client.put(benchKey(9_000_000 + trial * 10_000 + (probe % 10_000)), benchValue).then(
          () => {
            const at = performance.now() - killedAtMs;
            if (firstMs === null || at < firstMs) firstMs = at;
          },
          () => undefined,
        ),
      );
      await sleep(probeIntervalMs);
    }
    await Promise.all(outstanding);
    return firstMs;
  } finally {
    for (const client of clients) client.close();
  }
}

async function runTrials(cluster: BenchCluster): Promise<Trial[]> {
  const trials: Trial[] = [];
  for (let trial = 1; trial <= flags.trials!; trial++) {
    // A trial that cannot finish (a member that does not come back) ends the series; the
    // trials before it are still reported.
    try {
      const leader = await cluster.waitForLeader(30_000);
      const survivors = cluster.members.filter((member) => member !== leader);
      const oldTerm = await cluster.term(leader);
      const load = startLoad(cluster, flags['load-clients']!);
      let failoverMs: number | null;
      let loadWrites: number;
      try {
        await sleep(300);
        const killedAtMs = performance.now();
        const exited = leader.process.kill('SIGKILL');
        failoverMs = await firstCommitAfter(cluster, survivors, killedAtMs, trial);
        await exited;
      } finally {
        // Stopped whatever happens: its writers would otherwise keep the bench alive.
        loadWrites = await load.stop();
      }
      const newLeader = await cluster.waitForLeader(30_000, leader);
      const newTerm = await cluster.term(newLeader);
      const restartAtMs = performance.now();
      leader.process.start();
      await cluster.waitForFollower(leader, 60_000);
      const result: Trial = {
        bench: 'failover',
        system: cluster.system,
        trial,
        killed: leader.name,
        newLeader: newLeader.name,
        failoverMs: failoverMs === null ? null : round(failoverMs),
        termsUsed: oldTerm !== undefined && newTerm !== undefined ? newTerm - oldTerm : null,
        loadWritesDuringTrial: loadWrites,
        rejoinMs: round(performance.now() - restartAtMs),
      };
      console.log(JSON.stringify(result));
      trials.push(result);
    } catch (error) {
      console.error(`${cluster.system}: trial ${trial} could not finish (${(error as Error).message}); reporting the ${trials.length} trials before it`);
      process.exitCode = 1;
      break;
    }
  }
  return trials;
}

console.error(machineLine());
console.error(`${flags.trials} trials per system; heartbeat ${timers.heartbeatMs} ms, election timeout ${timers.electionMs} ms (both systems randomize it up to 2x); ${flags['load-clients']} writers of load; probe writes every ${probeIntervalMs} ms after the kill`);
const rows: (string | number | null)[][] = [];
for (const system of systems) {
  const trials = await withCluster(`bench:failover ${system}`, async (group) => runTrials(await startSystem(system, group, 3, timers)));
  const measured = (trials ?? []).flatMap((trial) => (trial.failoverMs === null ? [] : [trial.failoverMs]));
  const summary = summarize(measured);
  const lost = (trials ?? []).length - measured.length;
  console.log(JSON.stringify({ bench: 'failover-summary', system, trials: trials?.length ?? 0, noCommitWithinLimit: lost, p50Ms: round(summary.p50Ms), p90Ms: round(summary.p90Ms), p99Ms: round(summary.p99Ms), maxMs: round(summary.maxMs) }));
  rows.push([system, trials?.length ?? 0, round(summary.p50Ms), round(summary.p90Ms), round(summary.p99Ms), round(summary.maxMs), lost]);
}
console.log('');
console.log(formatTable(['system', 'trials', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', `none in ${trialLimitMs / 1000} s`], rows));
console.log('');
console.log(`target: failover p99 under 1000 ms; detection alone (the randomized election timeout) takes ${timers.electionMs}..${2 * timers.electionMs} ms after the last heartbeat here`);
