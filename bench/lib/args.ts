import { parseArgs } from 'node:util';

export interface FlagSpec {
  name: string;
  description: string;
  defaultValue: number;
  /** Smallest accepted value. */
  min: number;
  max: number;
}

/**
 * Parses `--flag value` numeric options of a bench. `--help` prints the usage and exits 0; a bad
 * value names the flag and the accepted range and exits 2 before anything is started.
 */
export function parseBenchFlags(command: string, summary: string, flags: readonly FlagSpec[], examples: readonly string[], argv = process.argv.slice(2)): Record<string, number> {
  const usage = [
    `usage: ${command} [options]`,
    '',
    summary,
    '',
    'options:',
    ...flags.map((flag) => `  --${flag.name} <n>`.padEnd(26) + `${flag.description} (default ${flag.defaultValue}, ${flag.min}..${flag.max})`),
    '  --help'.padEnd(26) + 'show this help',
    '',
    'examples:',
    ...examples.map((example) => `  ${example}`),
  ].join('\n');
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries([...flags.map((flag) => [flag.name, { type: 'string' as const }]), ['help', { type: 'boolean' as const }]]),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`${command}: ${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const result: Record<string, number> = {};
  for (const flag of flags) {
    const text = values[flag.name];
    const value = typeof text === 'string' ? Number(text) : flag.defaultValue;
    if (!Number.isFinite(value) || value < flag.min || value > flag.max) {
      console.error(`${command}: --${flag.name} must be a number from ${flag.min} to ${flag.max}, got "${String(text)}"`);
      process.exit(2);
    }
    result[flag.name] = value;
  }
  return result;
}
