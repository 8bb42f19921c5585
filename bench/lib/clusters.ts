import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { StoreClient } from '../../src/store/client.ts';
import type { StoreClientTls } from '../../src/store/wire.ts';
import type { MemberStatus } from '../../src/store/http-server.ts';
import { startBrambleCluster } from '../../test/lib/bramble-cluster.ts';
import { freePort } from '../../test/lib/ports.ts';
import type { ManagedProcess, ProcessGroup } from '../../test/lib/processes.ts';

export type SystemName = 'bramble' | 'etcd';

/**
 * Raft timers given to both systems alike. The defaults are etcd's own (heartbeat 100 ms,
 * election 1000 ms), which are also Bramble's (`--tick-ms 100 --election-ticks 10`).
 */
export interface RaftTimers {
  heartbeatMs: number;
  electionMs: number;
}

export const defaultTimers: RaftTimers = { heartbeatMs: 100, electionMs: 1000 };

export interface BenchMember {
  name: string;
  process: ManagedProcess;
  /** host:port of the client API (Bramble's CBOR/HTTP port, etcd's gRPC port). */
  clientAddress: string;
  /** Bramble: the client port's TLS (the cluster bundle's admin certificate). */
  tls?: StoreClientTls;
}

/** The two operations the store bench measures, with the same shape for both systems. */
export interface KvClient {
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** Linearizable read (ReadIndex on Bramble, etcd's default quorum read). */
  get(key: Uint8Array): Promise<void>;
  close(): void;
}

export interface BenchCluster {
  system: SystemName;
  members: BenchMember[];
  /** Polls the running members (except `except`) until one says it leads. */
  waitForLeader(timeoutMs: number, except?: BenchMember): Promise<BenchMember>;
  /**
   * A client that talks to these members only; each request gives up after timeoutMs. At most
   * maxConnections requests are on the wire at once (Bramble: keep-alive sockets; etcd3
   * multiplexes every request over one HTTP/2 connection per member, so it has no such cap).
   */
  client(endpoints: readonly BenchMember[], timeoutMs: number, maxConnections?: number): KvClient;
  /** Waits until a (re)started member answers and follows a leader. */
  waitForFollower(member: BenchMember, timeoutMs: number): Promise<void>;
  /** Version string the members report. */
  version(): Promise<string>;
  /** The Raft term a member is in, or undefined when it does not answer. */
  term(member: BenchMember): Promise<number | undefined>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Bramble: real `bramble up` processes (bin/bramble.mjs through tsx), LevelDB Raft log fsynced
// per Ready, the store's own network client (HTTP/1.1 keep-alive, CBOR).

async function brambleStatus(member: BenchMember): Promise<MemberStatus | undefined> {
  const client = new StoreClient({ endpoints: [member.clientAddress], timeoutMs: 1_000, tls: member.tls });
  try {
    return await client.status<MemberStatus>();
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

export async function startBramble(group: ProcessGroup, size: number, timers: RaftTimers): Promise<BenchCluster> {
  const electionTicks = Math.max(2, Math.round(timers.electionMs / timers.heartbeatMs));
  const nodes = await startBrambleCluster(group, size, {
    // Later flags win over the test helper's fast timers.
    extraArgs: ['--tick-ms', String(timers.heartbeatMs), '--election-ticks', String(electionTicks), '--heartbeat-ticks', '1', '--log-level', 'info'],
  });
  const members: BenchMember[] = nodes.map((node) => ({ name: node.name, process: node.process, clientAddress: node.clientAddress, tls: node.tls }));
  return {
    system: 'bramble',
    members,
    waitForLeader: (timeoutMs, except) =>
      pollUntil('a Bramble leader', timeoutMs, async () => {
        for (const member of members) {
          if (member === except || !member.process.running) continue;
          if ((await brambleStatus(member))?.role === 'leader') return member;
        }
        return undefined;
      }),
    client(endpoints, timeoutMs, maxConnections = 64) {
      const store = new StoreClient({ endpoints: endpoints.map((member) => member.clientAddress), timeoutMs, maxSockets: maxConnections, tls: endpoints[0]?.tls });
      return {
        put: async (key, value) => {
          await store.put(key, value);
        },
        get: async (key) => {
          await store.get(key);
        },
        close: () => store.close(),
      };
    },
    waitForFollower: async (member, timeoutMs) => {
      await pollUntil(`${member.name} to follow a leader`, timeoutMs, async () => {
        const status = await brambleStatus(member);
        return status && status.leader !== null && status.role === 'follower' ? true : undefined;
      });
    },
    version: async () => (await brambleStatus(members[0]!))?.version ?? 'unknown',
    term: async (member) => (await brambleStatus(member))?.term,
  };
}

// ---------------------------------------------------------------------------------------------
// etcd: Debian's etcd-server 3.4, fsync on (its default; --unsafe-no-fsync is not given),
// PreVote on like Bramble, driven through the etcd3 npm client (gRPC, etcd's own protocol).

/**
 * An etcd3 client without the library's retry and circuit breaker: the breaker would refuse
 * calls for 5 s after three failures and the retry would hide them, which distorts failover
 * times and makes the two systems' clients behave differently.
 */
function etcdClient(addresses: readonly string[], timeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts: addresses.map((address) => `http://${address}`),
    dialTimeout: timeoutMs,
    defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
    faultHandling: { host: () => noop, global: noop },
  });
}

async function etcdStatus(member: BenchMember): Promise<{ leads: boolean; hasLeader: boolean; version: string; term: number } | undefined> {
  const client = etcdClient([member.clientAddress], 1_000);
  try {
    const status = await client.maintenance.status();
    return { leads: status.leader === status.header.member_id, hasLeader: status.leader !== '0', version: status.version, term: Number(status.raftTerm) };
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

export async function startEtcd(group: ProcessGroup, size: number, timers: RaftTimers): Promise<BenchCluster> {
  const names = Array.from({ length: size }, (_, i) => `etcd${i + 1}`);
  const ports: { peer: number; client: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ peer: await freePort(), client: await freePort() });
  const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${ports[i]!.peer}`).join(',');
  const members: BenchMember[] = [];
  for (const [i, name] of names.entries()) {
    const peerUrl = `http://127.0.0.1:${ports[i]!.peer}`;
    const clientUrl = `http://127.0.0.1:${ports[i]!.client}`;
    const process = await group.spawn(name, {
      command: ['etcd'],
      args: ({ dataDir }) => [
        '--name', name, '--data-dir', dataDir,
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
        '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'bramble-bench',
        '--heartbeat-interval', String(timers.heartbeatMs), '--election-timeout', String(timers.electionMs),
        '--pre-vote=true', '--logger', 'zap', '--log-level', 'info',
      ],
    });
    members.push({ name, process, clientAddress: `127.0.0.1:${ports[i]!.client}` });
  }
  await Promise.all(members.map((member) => member.process.waitForLog(/serving client traffic|ready to serve client requests/, 30_000)));
  return {
    system: 'etcd',
    members,
    waitForLeader: (timeoutMs, except) =>
      pollUntil('an etcd leader', timeoutMs, async () => {
        for (const member of members) {
          if (member === except || !member.process.running) continue;
          if ((await etcdStatus(member))?.leads) return member;
        }
        return undefined;
      }),
    client(endpoints, timeoutMs) {
      const etcd = etcdClient(endpoints.map((member) => member.clientAddress), timeoutMs);
      return {
        put: async (key, value) => {
          await etcd.put(Buffer.from(key)).value(Buffer.from(value));
        },
        get: async (key) => {
          await etcd.get(Buffer.from(key)).buffer();
        },
        close: () => etcd.close(),
      };
    },
    waitForFollower: async (member, timeoutMs) => {
      await pollUntil(`${member.name} to follow a leader`, timeoutMs, async () => {
        const status = await etcdStatus(member);
        return status && status.hasLeader && !status.leads ? true : undefined;
      });
    },
    version: async () => (await etcdStatus(members[0]!))?.version ?? 'unknown',
    term: async (member) => (await etcdStatus(member))?.term,
  };
}

export function startSystem(system: SystemName, group: ProcessGroup, size: number, timers: RaftTimers): Promise<BenchCluster> {
  return system === 'bramble' ? startBramble(group, size, timers) : startEtcd(group, size, timers);
}
