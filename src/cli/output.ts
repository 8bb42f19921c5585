import { stringify as toYaml } from 'yaml';
import { UsageError } from '../node/usage-error.ts';

export const outputFormats = ['json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export function parseOutputFormat(value: string): OutputFormat {
  if ((outputFormats as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`unknown output format "${value}": use one of ${outputFormats.join(', ')}`);
}

export function formatStructured(value: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value);
}

/** A mistake in how the command was called: reported on stderr, exit code 2 (the node's start raises it too). */
export { UsageError };
