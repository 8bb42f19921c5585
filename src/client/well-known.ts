// The names and numbers one component writes and another reads: the agent labels and annotates
// its Node, the scheduler and controllers read them. Kept here, once, so a rename cannot leave a
// reader behind.
import { MAX_WRITES_PER_TXN } from '../api/registry.ts';

/** Labels the agent puts on its Node. */
export const NodeLabels = {
  /** The ARM variant of the board ("v7", "v8"), beside kubernetes.io/arch; read by the imageArchitecture filter. */
  archVariant: 'bramble.io/arch-variant',
  /** The board model as a label value ("Raspberry-Pi-4-Model-B-Rev-1.4"), for nodeSelectors. */
  board: 'bramble.io/board',
} as const;

/** Annotations the agent puts on its Node. */
export const NodeAnnotations = {
  /** The board model as the firmware spells it. */
  boardModel: 'bramble.io/board-model',
  /** JSON {"<image reference>": ["linux/arm64/v8"]}: the platforms of the images the engine holds. */
  imagePlatforms: 'bramble.io/image-platforms',
  /** How many tagged images the bounds left out of imagePlatforms (absent when none were). */
  imagePlatformsOmitted: 'bramble.io/image-platforms-omitted',
} as const;

/**
 * Annotations the agent writes on its Node and the scheduler's node-health score reads: coarse
 * buckets (5 °C, 0.25 load per CPU) so that a reading that wanders does not become a Raft write.
 */
export const NodeHealthAnnotations = {
  /** The hottest thermal zone in °C, a multiple of 5 ("45"). */
  temperatureCelsius: 'bramble.io/temperature-celsius',
  /** The 5-minute load average per CPU, a multiple of 0.25 ("0.75"). */
  loadPerCpu: 'bramble.io/load-per-cpu',
} as const;

/** The label on an Endpoints object the endpoints controller owns (one a user wrote is left alone). */
export const ENDPOINTS_MANAGED_LABEL = 'endpoints.bramble.io/managed';

/** Pods a node accepts when it does not say (Kubernetes' default; a Pi Zero deserves fewer). */
export const DEFAULT_MAX_PODS = 110;

/** Pods a ReplicaSet or Job creates in one sync at most; the rest come in the next syncs. */
export const MAX_POD_CREATES_PER_SYNC = 500;

/** Bindings in one store transaction: each is a pod write plus its Scheduled Event. */
export const MAX_BINDINGS_PER_TXN = Math.floor(MAX_WRITES_PER_TXN / 2);
