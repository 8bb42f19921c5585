// Byte helpers. Keys are kept in memory as latin1 strings: one char per byte, so JavaScript's
// string order (by UTF-16 code unit) is exactly LevelDB's byte order and Map lookups just work.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string (keys like `/registry/pods/default/web`, JSON values). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string a UTF-8 key or value holds. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A plain Uint8Array view (no copy): Buffers from LevelDB or cbor-x compare unequal to Uint8Arrays in deepEqual. */
export function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toKeyString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function fromKeyString(text: string): Uint8Array {
  return plain(Buffer.from(text, 'latin1'));
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && compareBytes(a, b) === 0;
}

/** etcd's convention: a rangeEnd of one zero byte means "every key from `key` on". */
export const UNBOUNDED_RANGE_END: Uint8Array = new Uint8Array([0]);

/**
 * The rangeEnd that selects every key starting with `prefix`: the prefix with its last byte
 * below 0xff incremented. A prefix of only 0xff bytes (or an empty one) has no upper bound.
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.byteLength - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = prefix[i]! + 1;
      return end;
    }
  }
  return UNBOUNDED_RANGE_END;
}
