import { randomBytes } from 'node:crypto';
import { sleep } from './run.ts';

/** 8-byte keys: "k" and 7 digits. */
export function benchKey(index: number): Uint8Array {
  return Buffer.from(`k${String(index % 10_000_000).padStart(7, '0')}`);
}

/** One random 256-byte value, the same for every put (neither system compresses). */
export const benchValue: Uint8Array = randomBytes(256);

export interface LoopResult {
  latenciesMs: number[];
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
}

/**
 * `workers` closed-loop clients, each issuing its next request as soon as the last one answered,
 * for durationMs. A failed request counts as an error (not a latency) and its worker pauses 10 ms,
 * so a broken cluster cannot spin the loop.
 */
export async function closedLoop(workers: number, durationMs: number, request: (worker: number, sequence: number) => Promise<void>): Promise<LoopResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const startMs = performance.now();
  const endMs = startMs + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let sequence = 0; performance.now() < endMs; sequence++) {
        const sentMs = performance.now();
        try {
          await request(worker, sequence);
          latenciesMs.push(performance.now() - sentMs);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
          await sleep(10);
        }
      }
    }),
  );
  return { latenciesMs, errors, firstError, elapsedMs: performance.now() - startMs };
}
