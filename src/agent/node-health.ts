// The node-health inputs of the scheduler (temperature, load) as Node annotations. They are coarse
// buckets with hysteresis, because the Node is written through Raft only when something on it
// changes (an idle node writes nothing): a 5 °C / 0.25-load bucket moves a few times an hour on a
// board whose load changes and never on an idle one, and the quarter-step hysteresis keeps a
// reading that sits on a bucket edge from flipping it at every check.
import { NodeHealthAnnotations } from '../client/index.ts';
import type { NodeHealthReading } from './node-info.ts';

export const TEMPERATURE_STEP_CELSIUS = 5;
export const LOAD_STEP_PER_CPU = 0.25;
/** Loads above this publish this ("2" = two or more per CPU): the score counts anything from 1 as fully loaded, and an overloaded board's wandering load then causes no writes. */
export const LOAD_CAP_PER_CPU = 2;

/**
 * The bucket (a multiple of `step`) to publish for `value`: the previous one while the value stays
 * within three quarters of a step of it (its own half step plus a quarter step of hysteresis),
 * otherwise the nearest.
 */
export function bucketWithHysteresis(value: number, step: number, previous: number | undefined): number {
  const nearest = Math.round(value / step) * step;
  if (previous === undefined || !Number.isFinite(previous)) return nearest;
  return Math.abs(value - previous) <= step * 0.75 ? previous : nearest;
}

function format(value: number): string {
  return String(Number(value.toFixed(2)));
}

function previousValue(annotations: Record<string, string> | undefined, key: string): number | undefined {
  const raw = annotations?.[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The health annotations for a reading, given those on the stored Node. A missing reading (no
 * thermal sensor, unreadable loadavg) has no annotation: the scheduler then treats it as unknown.
 */
export function healthAnnotations(reading: NodeHealthReading, stored: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (reading.temperatureMillicelsius !== null) {
    const key = NodeHealthAnnotations.temperatureCelsius;
    out[key] = format(bucketWithHysteresis(reading.temperatureMillicelsius / 1000, TEMPERATURE_STEP_CELSIUS, previousValue(stored, key)));
  }
  if (reading.loadPerCpu !== null) {
    const key = NodeHealthAnnotations.loadPerCpu;
    out[key] = format(bucketWithHysteresis(Math.min(reading.loadPerCpu, LOAD_CAP_PER_CPU), LOAD_STEP_PER_CPU, previousValue(stored, key)));
  }
  return out;
}

/** The annotation keys this module owns (removed from the Node when their reading disappears). */
export const HEALTH_ANNOTATION_KEYS: readonly string[] = Object.values(NodeHealthAnnotations);
