// Timed events of one simulation, popped in (time, insertion order). The insertion counter
// breaks ties, so two events scheduled for the same virtual millisecond always run in the
// order they were scheduled: that is what makes a run replayable from its seed.

interface Slot<T> {
  timeMs: number;
  seq: number;
  item: T;
}

export class EventQueue<T> {
  readonly #heap: Slot<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(timeMs: number, item: T): void {
    if (!Number.isFinite(timeMs)) throw new RangeError(`event queue: time must be finite, got ${timeMs}`);
    const heap = this.#heap;
    heap.push({ timeMs, seq: this.#seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  peekTimeMs(): number | undefined {
    return this.#heap[0]?.timeMs;
  }

  pop(): { timeMs: number; item: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        swap(heap, i, smallest);
        i = smallest;
      }
    }
    return { timeMs: top.timeMs, item: top.item };
  }
}

function before<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}

function swap<T>(heap: Slot<T>[], i: number, j: number): void {
  const tmp = heap[i]!;
  heap[i] = heap[j]!;
  heap[j] = tmp;
}
