// A bound on the shape of a CBOR request body of the client API, checked by one pass over the
// item heads before cbor-x builds anything: 4 MiB of one-byte integers decoded into an array of 4
// million items took 0.36 s of the event loop (a map of a million keys 0.45 s), while a real
// request (a txn of at most 128 operations per branch) is a few hundred items and a few levels.

export interface CborLimits {
  /** Arrays, maps, tags and indefinite strings nested in one another. */
  maxDepth: number;
  /** Items of every kind: each array element, map key and map value, tag, string chunk. */
  maxItems: number;
}

export const CBOR_LIMITS: CborLimits = { maxDepth: 32, maxItems: 10_000 };

export class CborLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CborLimitError';
  }
}

const INDEFINITE = -1;

/** The argument of the head at `pos` and where its content starts; undefined at a reserved or truncated head. */
function readHead(bytes: Uint8Array, pos: number): { major: number; info: number; value: number; next: number } | undefined {
  const first = bytes[pos];
  if (first === undefined) return undefined;
  const major = first >> 5;
  const info = first & 0x1f;
  if (info < 24) return { major, info, value: info, next: pos + 1 };
  if (info === 31) return { major, info, value: INDEFINITE, next: pos + 1 };
  if (info > 27) return undefined;
  const size = 1 << (info - 24);
  if (pos + 1 + size > bytes.length) return undefined;
  let value = 0;
  for (let i = 1; i <= size; i++) value = value * 256 + (bytes[pos + i] ?? 0);
  return { major, info, value, next: pos + 1 + size };
}

/**
 * Refuses a body whose first CBOR item nests deeper than maxDepth or holds more than maxItems
 * items, declared or present. Malformed input is left for the decoder to refuse.
 */
export function checkCborShape(bytes: Uint8Array, limits: CborLimits = CBOR_LIMITS): void {
  // Items still expected by each open container; INDEFINITE until its break byte.
  const open: number[] = [1];
  let items = 0;
  const tooMany = () => new CborLimitError(`the request body has more than ${limits.maxItems} CBOR items`);
  let pos = 0;
  while (open.length > 0) {
    const head = readHead(bytes, pos);
    if (head === undefined) return;
    pos = head.next;
    if (head.major === 7 && head.info === 31) {
      if (open[open.length - 1] !== INDEFINITE) return;
      open.pop();
    } else {
      if (++items > limits.maxItems) throw tooMany();
      const top = open.length - 1;
      if (open[top] !== INDEFINITE) open[top]!--;
      let children = 0;
      if (head.major === 2 || head.major === 3) {
        if (head.value === INDEFINITE) children = INDEFINITE;
        else pos += head.value;
      } else if (head.major === 4 || head.major === 5) {
        children = head.value === INDEFINITE ? INDEFINITE : head.value * (head.major === 5 ? 2 : 1);
      } else if (head.major === 6) children = 1;
      if (children > 0 && items + children > limits.maxItems) throw tooMany();
      if (children !== 0) {
        open.push(children);
        // The outermost entry is the body itself, not a level.
        if (open.length - 1 > limits.maxDepth) throw new CborLimitError(`the request body nests deeper than ${limits.maxDepth} CBOR levels`);
      }
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
  }
}
