// Defaults and checks for the knobs both transports share. A bad value is a configuration error
// and fails at construction, not on the first send.

import { DEFAULT_MAX_FRAME_BYTES } from './frame.ts';
import type { TransportLimits } from './types.ts';

export const DEFAULT_LIMITS: TransportLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 32 * 1024 * 1024,
};

/** Frames must hold a handshake and a small batch; Buffers and u32 lengths cap the top. */
const MIN_FRAME_BYTES = 1024;
const MAX_FRAME_BYTES = 2 ** 31;

export function positiveInteger(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen <= 0 || chosen > max) {
    throw new RangeError(`transport: ${name} must be a positive integer no larger than ${max}, got ${String(value)}`);
  }
  return chosen;
}

export function resolveLimits(given: Partial<TransportLimits>): TransportLimits {
  const maxFrameBytes = positiveInteger('maxFrameBytes', given.maxFrameBytes, DEFAULT_LIMITS.maxFrameBytes, MAX_FRAME_BYTES);
  if (maxFrameBytes < MIN_FRAME_BYTES) throw new RangeError(`transport: maxFrameBytes must be at least ${MIN_FRAME_BYTES}, got ${maxFrameBytes}`);
  return {
    maxFrameBytes,
    maxQueuedMessages: positiveInteger('maxQueuedMessages', given.maxQueuedMessages, DEFAULT_LIMITS.maxQueuedMessages),
    maxQueuedBytes: positiveInteger('maxQueuedBytes', given.maxQueuedBytes, DEFAULT_LIMITS.maxQueuedBytes),
  };
}
