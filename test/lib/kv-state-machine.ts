import { decode, encode } from 'cbor-x';
import type { StateMachine } from '../../src/raftnode/state-machine.ts';

export type KvCommand = { op: 'put'; key: string; value: string } | { op: 'cas'; key: string; expected: string | null; value: string };
export type KvResult = { ok: boolean; previous: string | null } | { error: string };

export const encodeKv = (command: KvCommand): Uint8Array => encode(command);

/**
 * A tiny in-memory key-value state machine for driver tests (the real one is src/store).
 * It keeps every applied index so tests can check that no entry is applied twice or skipped.
 */
export class KvStateMachine implements StateMachine<KvResult> {
  readonly data = new Map<string, string>();
  readonly appliedIndices: number[] = [];
  private applied = 0;

  appliedIndex(): number {
    return this.applied;
  }

  async apply(batch: { index: number; command: Uint8Array | null }[]): Promise<KvResult[]> {
    return batch.map(({ index, command }) => {
      if (index !== this.applied + 1) throw new Error(`kv: applying ${index} after ${this.applied}`);
      this.applied = index;
      this.appliedIndices.push(index);
      if (command === null) return { ok: true, previous: null };
      let parsed: KvCommand;
      try {
        parsed = decode(command) as KvCommand;
      } catch {
        return { error: 'bad command' };
      }
      const previous = this.data.get(parsed.key) ?? null;
      if (parsed.op === 'cas' && previous !== parsed.expected) return { ok: false, previous };
      this.data.set(parsed.key, parsed.value);
      return { ok: true, previous };
    });
  }

  async snapshot(): Promise<Uint8Array> {
    return encode([...this.data.entries()]);
  }

  async restore(image: Uint8Array, index: number): Promise<void> {
    this.data.clear();
    if (image.byteLength > 0) for (const [key, value] of decode(image) as [string, string][]) this.data.set(key, value);
    this.applied = index;
  }
}
