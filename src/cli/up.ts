// `bramble up`: flags (and BRAMBLE_* variables) -> NodeOptions -> src/node's startNode, then run
// until SIGINT or SIGTERM. The node itself is assembled in src/node.
import { hostname } from 'node:os';
import pino from 'pino';
import type { NodeOptions } from '../node/options.ts';
import { startNode } from '../node/node.ts';
import { buildInfo } from './build-info.ts';
import { logUnhandledRejections } from './up-rejections.ts';
import { withFormationAddressDefaults } from './up-formation.ts';
import { parseUpOptions, type RawUpFlags, type UpOptions, withEnvFlags } from './up-options.ts';

/** What the node is started with, from the checked flags; the log level is the CLI's own (it makes the logger). */
export function toNodeOptions(up: UpOptions): NodeOptions {
  const { logLevel: _logLevel, ...node } = up;
  return { ...node, version: buildInfo().version };
}

/** Runs a node until SIGINT/SIGTERM, then stops it. */
export async function runUp(flags: RawUpFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const up = parseUpOptions(withFormationAddressDefaults(withEnvFlags(flags, env)), { hostname: hostname() });
  const logger = pino({ level: up.logLevel, base: { node: up.name } });
  const unhandled = logUnhandledRejections(logger);
  const node = await startNode(toNodeOptions(up), logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`bramble up: ${signal} received, stopping\n`);
      void node.stop().then(() => {
        unhandled();
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
