import { SimEngine, SimRuntime } from '../../../src/agent/runtime/sim-runtime.ts';
import { runtimeContract } from './runtime-contract.ts';

let nextPort = 30_000;

runtimeContract('SimRuntime (in memory, for large simulations)', async () => {
  const engine = new SimEngine({ os: 'linux', architecture: 'amd64' });
  engine.loadImage('sim/busybox:amd64', { os: 'linux', architecture: 'amd64' });
  engine.loadImage('sim/busybox:arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' });
  // Like the test host: arm64 runs through a registered emulator.
  const runnablePlatforms = [
    { architecture: 'amd64', variants: [], emulated: false },
    { architecture: 'arm64', variants: [], emulated: true },
  ];
  return {
    newRuntime: async (nodeName, options = {}) => new SimRuntime({ engine, nodeName, runnablePlatforms: options.runnablePlatforms ?? runnablePlatforms }),
    images: { native: 'sim/busybox:amd64', arm64: 'sim/busybox:arm64' },
    nativeOnly: [{ architecture: 'amd64', variants: [], emulated: false }],
    runsProcesses: false,
    hostIP: '127.0.0.1',
    // No socket is opened: host ports are bookkeeping in the simulated engine.
    freePort: async () => nextPort++,
  };
});
