#!/usr/bin/env node
// Development entry point: runs the TypeScript sources through tsx's loader, so `npx bramble`
// works straight after `npm ci`. The release binary (`npm run build`, later) bundles instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
