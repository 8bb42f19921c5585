import { performance } from 'node:perf_hooks';
import { createPrng } from '../../src/raft/prng.ts';
import { StoreClient, StoreClientError } from '../../src/store/client.ts';
import type { StoreClientTls } from '../../src/store/wire.ts';
import { checkOperations, HistoryRecorder, type KvInput, type KvOperation, type KvOutput, kvModel, renderIllegal } from './linearizability/index.ts';

const text = (value: string) => Buffer.from(value);

async function execute(client: StoreClient, input: KvInput): Promise<KvOutput> {
  const key = text(`/workload/${input.key}`);
  switch (input.kind) {
    case 'get': {
      const response = await client.range({ key });
      const value = response.kvs[0]?.value;
      return value ? Buffer.from(value).toString() : null;
    }
    case 'put':
      await client.put(key, text(input.value));
      return null;
    case 'cas': {
      const compare =
        input.expected === null
          ? [{ key, target: 'version' as const, result: '=' as const, value: 0 }]
          : [{ key, target: 'value' as const, result: '=' as const, value: text(input.expected) }];
      const response = await client.txn({ compare, success: [{ op: 'put', key, value: text(input.value) }], failure: [] });
      return response.succeeded;
    }
    case 'delete':
      await client.deleteRange({ key });
      return null;
  }
}

export interface WorkloadOptions {
  /** One endpoint list per concurrent client (a client sticks to its first endpoint while it answers). */
  clientEndpoints: string[][];
  /** Client-port TLS of the cluster (BrambleNode.tls). */
  tls?: StoreClientTls;
  keys: string[];
  seed: number;
  /** Runs until this promise resolves (e.g. after the faults are done). */
  until: Promise<void>;
  requestTimeoutMs?: number;
}

export interface WorkloadSummary {
  operations: KvOperation[];
  completedWrites: number;
  completedReads: number;
  openOperations: number;
  failedReads: number;
}

/**
 * Concurrent clients issuing put, linearizable get and compare-and-set with unique values over a
 * few keys, recording invoke/return times. A write whose outcome is unknown (timeout, connection
 * lost) stays open forever; a read without an answer is dropped (it constrains nothing).
 */
export async function runKvWorkload(options: WorkloadOptions): Promise<WorkloadSummary> {
  const recorder = new HistoryRecorder<KvInput, KvOutput>(() => performance.now());
  let stopped = false;
  void options.until.then(() => {
    stopped = true;
  });
  let failedReads = 0;
  const prng = createPrng(options.seed);
  const clients = options.clientEndpoints.map(async (endpoints, clientId) => {
    const random = prng.split();
    const client = new StoreClient({ endpoints, timeoutMs: options.requestTimeoutMs ?? 3_000, maxSockets: 1, tls: options.tls });
    let sequence = 0;
    try {
      while (!stopped) {
        const key = options.keys[random.nextInt(options.keys.length)]!;
        const dice = random.nextInt(100);
        const value = `c${clientId}-${sequence++}`;
        const input: KvInput =
          dice < 45 ? { kind: 'get', key } : dice < 85 ? { kind: 'put', key, value } : { kind: 'cas', key, expected: random.nextInt(2) === 0 ? null : `c${random.nextInt(options.clientEndpoints.length)}-${Math.max(0, sequence - 1 - random.nextInt(4))}`, value };
        const opId = recorder.invoke(clientId, input);
        try {
          recorder.complete(opId, await execute(client, input));
        } catch (error) {
          if (input.kind === 'get') {
            recorder.discard(opId);
            failedReads++;
          } else if (error instanceof StoreClientError && error.status >= 400 && error.status < 500) {
            throw new Error(`the store refused a well-formed ${input.kind}: ${error.message}`);
          }
          // A write with an unknown outcome stays open; pause a little so a leaderless spell is not a busy loop.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    } finally {
      client.close();
    }
  });
  await Promise.all(clients);
  const operations = recorder.operations();
  return {
    operations,
    completedWrites: operations.filter((op) => op.input.kind !== 'get' && op.output !== undefined && Number.isFinite(op.returnTime)).length,
    completedReads: operations.filter((op) => op.input.kind === 'get').length,
    openOperations: operations.filter((op) => !Number.isFinite(op.returnTime)).length,
    failedReads,
  };
}

/** Throws with a readable rendering when the history is not linearizable. */
export function assertLinearizable(operations: KvOperation[]): void {
  const result = checkOperations(kvModel, operations, { timeoutMs: 60_000 });
  if (result.result === 'illegal') throw new Error(`history is not linearizable:\n${renderIllegal(kvModel, result.illegal)}`);
  if (result.result === 'unknown') throw new Error(`linearizability check did not finish for keys ${result.undecidedKeys.join(', ')}`);
}
