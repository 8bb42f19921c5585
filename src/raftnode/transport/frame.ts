// Framing on a byte stream: [u32 big-endian length][u8 version][CBOR body]. The length counts
// everything after itself (version byte and body), so a frame occupies 4 + length bytes.

import { ProtocolError } from './errors.ts';

export const PROTOCOL_VERSION = 1;
export const LENGTH_PREFIX_BYTES = 4;
export const FRAME_HEADER_BYTES = LENGTH_PREFIX_BYTES + 1;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface Frame {
  version: number;
  body: Buffer;
}

/** Wraps body parts into one frame without concatenating them first. */
export function encodeFrame(bodyParts: readonly Uint8Array[], version = PROTOCOL_VERSION): Buffer {
  let bodyBytes = 0;
  for (const part of bodyParts) bodyBytes += part.byteLength;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
  frame.writeUInt32BE(1 + bodyBytes, 0);
  frame.writeUInt8(version, LENGTH_PREFIX_BYTES);
  let offset = FRAME_HEADER_BYTES;
  for (const part of bodyParts) {
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}

export interface DecodeResult {
  frames: Frame[];
  /** Set once the stream is broken; frames before the fault are still returned. */
  error: ProtocolError | null;
}

/**
 * Cuts a TCP byte stream into frames, whatever the chunking: a frame split over many chunks or
 * many frames in one chunk. Chunks are kept as a list and joined only once a whole frame is
 * there, so a large frame arriving in small pieces costs one copy, not one per piece.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #supportedVersions: ReadonlySet<number>;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  /** Whole size of the frame being read, once its header is validated. */
  #frameBytes: number | null = null;
  #error: ProtocolError | null = null;

  constructor(maxFrameBytes: number, supportedVersions: readonly number[] = [PROTOCOL_VERSION]) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#supportedVersions = new Set(supportedVersions);
  }

  push(chunk: Buffer): DecodeResult {
    const frames: Frame[] = [];
    if (this.#error) return { frames, error: this.#error };
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.byteLength;
    }
    for (;;) {
      if (this.#frameBytes === null) {
        // Check the header as soon as it is there: an oversized or unknown frame is refused
        // before we buffer megabytes of it.
        // The length is judged from its 4 bytes alone: a sender that stops right after a bad
        // length must not hold the connection open waiting for a version byte.
        if (this.#bufferedBytes < LENGTH_PREFIX_BYTES) break;
        const length = this.#peek(LENGTH_PREFIX_BYTES).readUInt32BE(0);
        this.#error = this.#checkLength(length);
        if (!this.#error) {
          if (this.#bufferedBytes < FRAME_HEADER_BYTES) break;
          this.#error = this.#checkVersion(this.#peek(FRAME_HEADER_BYTES).readUInt8(LENGTH_PREFIX_BYTES));
        }
        if (this.#error) {
          this.#chunks = [];
          this.#bufferedBytes = 0;
          return { frames, error: this.#error };
        }
        this.#frameBytes = LENGTH_PREFIX_BYTES + length;
      }
      if (this.#bufferedBytes < this.#frameBytes) break;
      const frame = this.#take(this.#frameBytes);
      this.#frameBytes = null;
      frames.push({ version: frame.readUInt8(LENGTH_PREFIX_BYTES), body: frame.subarray(FRAME_HEADER_BYTES) });
    }
    return { frames, error: null };
  }

  /** Bytes of an incomplete frame still held. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  #checkLength(length: number): ProtocolError | null {
    // A frame must hold the version byte and at least one byte of CBOR.
    if (length < 2) return new ProtocolError('badLength', `frame length ${length} is too small to hold a version and a body`);
    if (LENGTH_PREFIX_BYTES + length > this.#maxFrameBytes) {
      return new ProtocolError('frameTooLarge', `frame of ${LENGTH_PREFIX_BYTES + length} bytes exceeds maxFrameBytes ${this.#maxFrameBytes}`);
    }
    return null;
  }

  #checkVersion(version: number): ProtocolError | null {
    if (!this.#supportedVersions.has(version)) {
      return new ProtocolError('unknownVersion', `frame version ${version} is not supported (this node speaks ${[...this.#supportedVersions].join(', ')})`);
    }
    return null;
  }

  #peek(bytes: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.byteLength >= bytes) return first;
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled >= bytes) break;
      filled += chunk.copy(out, filled, 0, Math.min(chunk.byteLength, bytes - filled));
    }
    return out;
  }

  #take(bytes: number): Buffer {
    const first = this.#chunks[0];
    let taken: Buffer;
    if (first && first.byteLength >= bytes) {
      taken = first.subarray(0, bytes);
      const rest = first.subarray(bytes);
      if (rest.byteLength > 0) this.#chunks[0] = rest;
      else this.#chunks.shift();
    } else {
      const all = Buffer.concat(this.#chunks, this.#bufferedBytes);
      taken = all.subarray(0, bytes);
      const rest = all.subarray(bytes);
      this.#chunks = rest.byteLength > 0 ? [rest] : [];
    }
    this.#bufferedBytes -= bytes;
    return taken;
  }
}
